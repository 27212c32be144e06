/**
 * Prints rows as aligned columns, the first row a header with a rule under
 * it: the first `left` columns padded on the right (text), the others on the
 * left (figures). Widths by a loop, not Math.max(...column): a column may be
 * long.
 */
export function printTable(rows: string[][], left = 1): void {
  const widths = rows[0]!.map(() => 0);
  for (const row of rows) row.forEach((cell, c) => (widths[c] = Math.max(widths[c]!, cell.length)));
  const line = (row: string[]) => row.map((cell, c) => (c < left ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  for (const [i, row] of rows.entries()) {
    console.log(line(row));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}
