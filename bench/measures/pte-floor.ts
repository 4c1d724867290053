// The floor of the map/unmap microbenchmarks: the page-table work itself and nothing else. One typed array
// per level (the tables on the path of one IOVA), the same index arithmetic as io-pgtable
// (floor(iova / blockSize) % entries, no 32-bit operators since IOVAs pass 2^32), a read of the descriptor
// at every level above the leaf, then the two 32-bit words of the leaf written on map and cleared on unmap,
// after a second walk.
import type { Batch } from '../lib/stats';

export interface PteGeometry {
  /** address bit where each level's index starts, top level first */
  shifts: readonly number[];
  /** index bits per level, top level first */
  bits: readonly number[];
  /** the level that holds the leaf */
  leafLevel: number;
}

export function pteFloor(g: PteGeometry, iova: number, leafLo: number, leafHi: number): Batch {
  const levels = g.leafLevel + 1;
  const blockSize: number[] = [];
  const entries: number[] = [];
  const tables: Uint32Array[] = [];
  for (let l = 0; l < levels; l++) {
    blockSize.push(2 ** g.shifts[l]);
    entries.push(2 ** g.bits[l]);
    tables.push(new Uint32Array(2 * 2 ** g.bits[l]));
  }
  // table descriptors on the path (valid + table bits), as a populated page table has them
  for (let l = 0; l < g.leafLevel; l++) {
    const i = Math.floor(iova / blockSize[l]) % entries[l];
    tables[l][2 * i] = 3;
  }
  const leaf = tables[g.leafLevel];
  return (n: number) => {
    let acc = 0;
    for (let k = 0; k < n; k++) {
      // map: walk to the leaf table, check the slot is free, write the descriptor
      for (let l = 0; l < g.leafLevel; l++) acc += tables[l][2 * (Math.floor(iova / blockSize[l]) % entries[l])] & 1;
      let i = Math.floor(iova / blockSize[g.leafLevel]) % entries[g.leafLevel];
      if ((leaf[2 * i] & 1) === 0) { leaf[2 * i] = leafLo; leaf[2 * i + 1] = leafHi; }
      // unmap: walk again, clear both words
      for (let l = 0; l < g.leafLevel; l++) acc += tables[l][2 * (Math.floor(iova / blockSize[l]) % entries[l])] & 1;
      i = Math.floor(iova / blockSize[g.leafLevel]) % entries[g.leafLevel];
      acc += leaf[2 * i] & 1;
      leaf[2 * i] = 0;
      leaf[2 * i + 1] = 0;
    }
    return acc;
  };
}
