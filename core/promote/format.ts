/** Four significant digits, for reasons. */
export function fmt(x: number): string {
  return String(Number(x.toPrecision(4)));
}
