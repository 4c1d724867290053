// The address-map panel's message loop in the real extension host: the real webview (loaded by the workbench
// page) says ready and gets the run's snapshot; malformed messages are rejected with the offending field and get
// no answer; requestWalk is answered with the page-table walk the session computes.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { IommuLensExports } from '../../extension/extension';
import type { HostToWebview } from '../../webview/protocol';
import { api, closeEditors, until, workspaceUri } from './helpers';

type Walk = Extract<HostToWebview, { type: 'walk' }>;

export function mapSuite(): void {
  describe('address map panel', () => {
    let a: IommuLensExports;
    const posted: HostToWebview[] = [];
    let sub: vscode.Disposable | undefined;
    const map = () => {
      assert.ok(a.addressMap, 'the extension exports addressMap');
      return a.addressMap;
    };
    const walkAnswer = (domainId: string, iova: number) => () =>
      posted.find((m): m is Walk => m.type === 'walk' && m.domainId === domainId && m.iova === iova);

    before(async () => {
      a = (await api()) as IommuLensExports;
      sub = map().onDidPost(m => posted.push(m));
      // site-demo: dma0 on its unmanaged domain d2, 8K mapped at 0x100000, a fault at 0x300000
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.runScenario', workspaceUri('fixtures/site-demo.iommu.yaml')), true);
      await vscode.commands.executeCommand('iommuLens.showMap', { domain: 'd2' });
    });
    after(async () => {
      sub?.dispose();
      await closeEditors();
    });

    it('opens a panel whose webview says ready and receives the snapshot of the run', async () => {
      assert.ok(map().panel, 'Show Address Map opened a panel');
      const snap = await until('the webview to get a snapshot of d2', () =>
        posted.find((m): m is Extract<HostToWebview, { type: 'snapshot' }> => m.type === 'snapshot' && m.model.domain?.id === 'd2'), 30000);
      assert.deepStrictEqual(snap.model.domains.map(d => d.id), ['d1', 'd2']);
      assert.strictEqual(snap.model.mappings.iova.length, 1, 'd2 has the one 8K mapping');
      assert.strictEqual(snap.model.faults.length, 1, 'and the fault at 0x300000');
    });

    it('rejects malformed messages, naming the field, and answers none of them', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [null, /^message: expected an object/],
        ['ready', /^message: expected an object/],
        [{ type: 'rm -rf' }, /^message\.type: expected ready \| selectDomain/],
        [{ type: 'requestWalk', domainId: 'd2', iova: -4096 }, /^requestWalk\.iova: expected an address/],
        [{ type: 'requestWalk', domainId: 'd2', iova: 2 ** 64 }, /^requestWalk\.iova: expected an address/],
        [{ type: 'requestWalk', domainId: 'd2', iova: '0x100000' }, /^requestWalk\.iova: expected an address/],
        [{ type: 'requestWalk', domainId: '<img src=x>', iova: 0 }, /^requestWalk\.domainId: expected an identifier/],
        [{ type: 'requestWalk', domainId: 'd2', iova: 0, extra: true }, /^requestWalk\.extra: expected no such field/],
        [{ type: 'goToSource', site: '../../etc/passwd' }, /^goToSource\.site: expected "FILE\.c:FUNCTION"/],
        [{ type: 'reveal', target: { kind: 'mapping', domain: 'd2', iova: '0xZZ' } }, /^reveal\.target\.iova: expected a lowercase hex/],
        [{ type: 'reveal', target: { kind: 'everything', domain: 'd2' } }, /^reveal\.target\.kind: expected mapping \| fault/],
        [{ type: 'stateChanged', state: { domainId: 'd2', iova: null, phys: null, colorBy: 'rainbow', walkAddress: '' } },
          /^stateChanged\.state\.colorBy: expected "buffer" or "device"/],
        [{ type: 'stateChanged', state: { domainId: 'd2', iova: { start: 0, span: 0 }, phys: null, colorBy: 'buffer', walkAddress: '' } },
          /^stateChanged\.state\.iova\.span: expected a positive number/],
      ];
      const before = posted.length;
      for (const [message, want] of cases) {
        const error = await map().receive(message);
        assert.ok(error !== undefined, `accepted ${JSON.stringify(message)}`);
        assert.match(error, want, `${JSON.stringify(message)}`);
      }
      await new Promise(r => setTimeout(r, 200));
      assert.deepStrictEqual(posted.slice(before), [], 'a rejected message gets no answer');
    });

    it('answers requestWalk for a mapped IOVA with every level down to the leaf PTE', async () => {
      assert.strictEqual(await map().receive({ type: 'requestWalk', domainId: 'd2', iova: 0x100000 }), undefined);
      const answer = await until('the walk of 0x100000', walkAnswer('d2', 0x100000));
      assert.strictEqual(answer.error, undefined, answer.error);
      // the same walk the session computes, level by level (arm-lpae-s1-4k: four levels for a 48-bit IOVA)
      const expected = a.store.current!.walk('d2', 0x100000);
      assert.deepStrictEqual(answer.levels, expected);
      assert.deepStrictEqual(answer.levels!.map(l => l.outcome), ['table', 'table', 'table', 'leaf']);
      const leaf = answer.levels![3];
      assert.strictEqual(leaf.index, 0x100000 / 4096 % 512);
      assert.match(leaf.raw, /^0x0*80000[0-9a-f]{3}$/, 'the leaf PTE points at 0x80000000');
    });

    it('answers requestWalk for the faulting IOVA with the invalid entry, and for an unknown domain with an error', async () => {
      await map().receive({ type: 'requestWalk', domainId: 'd2', iova: 0x300000 });
      const fault = await until('the walk of 0x300000', walkAnswer('d2', 0x300000));
      assert.strictEqual(fault.levels?.at(-1)?.outcome, 'invalid');
      assert.strictEqual(fault.levels?.at(-1)?.raw, '0x0000000000000000');

      await map().receive({ type: 'requestWalk', domainId: 'd9', iova: 0x1000 });
      const unknown = await until('the answer for d9', walkAnswer('d9', 0x1000));
      assert.strictEqual(unknown.levels, undefined);
      assert.match(unknown.error ?? '', /^Domain d9 has no page table to walk/);
    });
  });
}
