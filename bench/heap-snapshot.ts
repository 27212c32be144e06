/**
 * A V8 heap snapshot (v8.writeHeapSnapshot's JSON) read into flat arrays,
 * with each node's retained size (what would be freed with it: the sizes of
 * the nodes it dominates, Cooper–Harvey–Kennedy's iterative dominators over
 * the strong edges from the root). For bench/evaluator-memory.ts.
 */
import { readFileSync } from 'node:fs';

interface Meta {
  meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] };
  node_count: number;
}

/** The section `"name":` of a snapshot file: where its value starts. */
function sectionStart(file: Buffer, name: string): number {
  const at = file.indexOf(`"${name}":`);
  if (at < 0) throw new Error(`heap snapshot: no "${name}" section`);
  return at + name.length + 3;
}

/** The array of unsigned integers starting at `at` (its '['), read in place: a whole process's snapshot is more than a string may hold. */
function integers(file: Buffer, at: number): Uint32Array {
  const end = file.indexOf(']', at);
  let count = 0;
  for (let i = at + 1; i < end; i++) if (file[i] === 0x2c) count++;
  const out = new Uint32Array(count + 1);
  let k = 0;
  let value = 0;
  for (let i = at + 1; i < end; i++) {
    const c = file[i]!;
    if (c >= 0x30 && c <= 0x39) value = value * 10 + (c - 0x30);
    else if (c === 0x2c) {
      out[k++] = value;
      value = 0;
    }
  }
  out[k] = value;
  return out;
}

/** One edge out of a node: its kind, its name (a property's, or an element's index) and the node it reaches. */
export interface Edge {
  type: string;
  name: string;
  to: number;
}

export class HeapSnapshot {
  readonly count: number;
  private readonly nodes: Uint32Array;
  private readonly edges: Uint32Array;
  private readonly strings: string[];
  private readonly nodeWidth: number;
  private readonly edgeWidth: number;
  private readonly nodeTypes: string[];
  private readonly edgeTypes: string[];
  /** Index of each node's first edge in `edges` (divided by edgeWidth); firstEdge[count] is the end. */
  private readonly firstEdge: Uint32Array;
  readonly retained: Float64Array;

  constructor(path: string) {
    const file = readFileSync(path);
    // The file: {"snapshot":{meta},\n"nodes":[...],\n"edges":[...],\n...,\n"strings":[...]}; the strings last.
    const snapshot = (JSON.parse(`${file.toString('utf8', 0, file.indexOf('"nodes":')).trim().replace(/,$/, '')}}`) as { snapshot: Meta }).snapshot;
    const meta = snapshot.meta;
    this.nodes = integers(file, sectionStart(file, 'nodes'));
    this.edges = integers(file, sectionStart(file, 'edges'));
    this.strings = JSON.parse(file.toString('utf8', sectionStart(file, 'strings'), file.lastIndexOf(']') + 1)) as string[];
    this.nodeWidth = meta.node_fields.length;
    this.edgeWidth = meta.edge_fields.length;
    this.nodeTypes = meta.node_types[0];
    this.edgeTypes = meta.edge_types[0];
    this.count = snapshot.node_count;
    this.firstEdge = new Uint32Array(this.count + 1);
    const edgeCount = meta.node_fields.indexOf('edge_count');
    for (let n = 0; n < this.count; n++) this.firstEdge[n + 1] = this.firstEdge[n]! + this.nodes[n * this.nodeWidth + edgeCount]!;
    this.retained = this.retainedSizes();
  }

  type(n: number): string {
    return this.nodeTypes[this.nodes[n * this.nodeWidth]!]!;
  }

  /** The constructor's name of an object node, the string of a string node, or V8's label. */
  name(n: number): string {
    return this.strings[this.nodes[n * this.nodeWidth + 1]!]!;
  }

  selfSize(n: number): number {
    return this.nodes[n * this.nodeWidth + 3]!;
  }

  edgesOf(n: number): Edge[] {
    const out: Edge[] = [];
    for (let e = this.firstEdge[n]!; e < this.firstEdge[n + 1]!; e++) {
      const at = e * this.edgeWidth;
      const type = this.edgeTypes[this.edges[at]!]!;
      const nameOrIndex = this.edges[at + 1]!;
      const name = type === 'element' || type === 'hidden' ? String(nameOrIndex) : this.strings[nameOrIndex]!;
      out.push({ type, name, to: this.edges[at + 2]! / this.nodeWidth });
    }
    return out;
  }

  /** The node a named property of `n` points to (or undefined). */
  property(n: number, name: string): number | undefined {
    return this.edgesOf(n).find((e) => e.name === name && e.type !== 'weak')?.to;
  }

  /** Retained size of every node: dominators over strong edges (weak ones hold nothing). */
  private retainedSizes(): Float64Array {
    const { order, post } = this.postOrder();
    const preds = this.predecessors(post);
    const idom = new Int32Array(this.count).fill(-1);
    const root = order[order.length - 1]!;
    idom[root] = root;
    const intersect = (a: number, b: number) => {
      while (a !== b) {
        while (post[a]! < post[b]!) a = idom[a]!;
        while (post[b]! < post[a]!) b = idom[b]!;
      }
      return a;
    };
    for (let changed = true; changed; ) {
      changed = false;
      for (let i = order.length - 2; i >= 0; i--) {
        const n = order[i]!;
        let dom = -1;
        for (const p of preds[n]!) if (idom[p] !== -1) dom = dom === -1 ? p : intersect(p, dom);
        if (dom !== -1 && idom[n] !== dom) {
          idom[n] = dom;
          changed = true;
        }
      }
    }
    const retained = new Float64Array(this.count);
    for (const n of order) retained[n] = retained[n]! + this.selfSize(n);
    // Post order: a node comes after everything it dominates, so its sum is whole when it is passed up.
    for (const n of order) if (n !== root && idom[n] !== -1) retained[idom[n]!] = retained[idom[n]!]! + retained[n]!;
    return retained;
  }

  /** The nodes reachable from node 0 in post order, and each one's position in it (-1: unreachable). */
  private postOrder(): { order: number[]; post: Int32Array } {
    const post = new Int32Array(this.count).fill(-1);
    const seen = new Uint8Array(this.count);
    const order: number[] = [];
    const stack: Array<[number, number]> = [[0, this.firstEdge[0]!]];
    seen[0] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [n, e] = top;
      if (e === this.firstEdge[n + 1]) {
        stack.pop();
        post[n] = order.length;
        order.push(n);
        continue;
      }
      top[1] = e + 1;
      if (this.edgeTypes[this.edges[e * this.edgeWidth]!] === 'weak') continue;
      const to = this.edges[e * this.edgeWidth + 2]! / this.nodeWidth;
      if (seen[to]) continue;
      seen[to] = 1;
      stack.push([to, this.firstEdge[to]!]);
    }
    return { order, post };
  }

  private predecessors(post: Int32Array): number[][] {
    const preds: number[][] = Array.from({ length: this.count }, () => []);
    for (let n = 0; n < this.count; n++) {
      if (post[n] === -1) continue;
      for (let e = this.firstEdge[n]!; e < this.firstEdge[n + 1]!; e++) {
        if (this.edgeTypes[this.edges[e * this.edgeWidth]!] === 'weak') continue;
        preds[this.edges[e * this.edgeWidth + 2]! / this.nodeWidth]!.push(n);
      }
    }
    return preds;
  }
}
