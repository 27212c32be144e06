/** `--name N` from the bench's command line, or the fallback; anything but a number is an error. */
export function numberOption(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (args[i + 1] === undefined || !Number.isFinite(value)) throw new Error(`--${name} takes a number, got ${JSON.stringify(args[i + 1] ?? '')}`);
  return value;
}
