// The address-map panel: command `iommuLens.showMap`, the webview panel (strict CSP, resources only from
// dist/ and media/), the serializer that brings it back after a reload, and the message loop with the
// webview (webview/protocol.ts). The model it sends is built from the session's report by buildMapModel.
import * as vscode from 'vscode';
import type { SessionStore } from '../sessionStore';
import { buildMapModel, emptyMapModel } from '../../webview/model';
import {
  validateMapViewState, validateWebviewMessage, type HostToWebview, type MapFocusRange, type MapViewState, type WebviewToHost,
} from '../../webview/protocol';
import { makeNonce, webviewHtml } from './html';
import { chooseDomain, focusFromArg, treeRevealArg, walkMessage } from './hostLogic';

export const MAP_VIEW_TYPE = 'iommuLens.addressMap';
/** Session changes closer together than this are drawn once (a Run of many steps fires many). */
const REFRESH_DEBOUNCE_MS = 150;

type WalkFn = (domainId: string, iova: number) => unknown;

/**
 * What `registerAddressMap` returns (the extension exports it as `addressMap`): the open panel, and its message
 * loop for tests — `receive` handles a message as if the webview had posted it, `onDidPost` sees every answer.
 */
export interface AddressMapApi {
  readonly panel: vscode.WebviewPanel | undefined;
  /** Resolves with the validation error when RAW is rejected, with undefined once it was handled. */
  receive(raw: unknown): Promise<string | undefined>;
  readonly onDidPost: vscode.Event<HostToWebview>;
}

class MapPanel implements vscode.Disposable {
  private ready = false;
  private dirty = false;
  private domainId: string | null;
  private pendingFocus: { domainId: string | null; focus: MapFocusRange } | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(readonly panel: vscode.WebviewPanel, private readonly context: vscode.ExtensionContext,
              private readonly sessions: SessionStore, private readonly log: vscode.LogOutputChannel,
              private state: MapViewState | null, private readonly posted: vscode.EventEmitter<HostToWebview>,
              private readonly onGone: () => void) {
    this.domainId = state?.domainId ?? null;
    const root = context.extensionUri;
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(root, 'dist'), vscode.Uri.joinPath(root, 'media')],
    };
    panel.webview.html = webviewHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'dist', 'webview.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'dist', 'webview.css')).toString(),
      nonce: makeNonce(),
      title: 'IOMMU Address Map',
    });
    this.updateTitle();
    this.disposables.push(
      panel.webview.onDidReceiveMessage(m => void this.receive(m)),
      panel.onDidChangeViewState(() => { if (panel.visible && this.dirty) this.sendSnapshot(); }),
      panel.onDidDispose(() => this.dispose()),
      sessions.onDidChange(() => this.scheduleRefresh()),
    );
  }

  /** Shows the panel, optionally on one domain and range (from the tree, the status bar or a command). */
  show(arg: unknown): void {
    this.panel.reveal(undefined, false);
    const f = focusFromArg(this.sessions.report, arg);
    if (!f) return;
    const domainId = chooseDomain(this.sessions.report, [f.domainId, this.domainId]);
    if (!this.ready) {
      this.pendingFocus = { domainId, focus: f.focus };
      return;
    }
    this.focus(domainId, f.focus);
  }

  private focus(domainId: string | null, focus: MapFocusRange): void {
    if (domainId) {
      this.post({ type: 'selectDomain', domainId, focus });
      if (domainId !== this.domainId) {
        this.domainId = domainId;
        this.sendSnapshot();
      }
    }
  }

  private scheduleRefresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.updateTitle();
      if (!this.ready) return;
      if (this.panel.visible) this.sendSnapshot();
      else this.dirty = true;
    }, REFRESH_DEBOUNCE_MS);
  }

  private updateTitle(): void {
    const label = this.sessions.source?.label;
    this.panel.title = label ? `Address Map: ${label}` : 'IOMMU Address Map';
  }

  private sendSnapshot(): void {
    this.dirty = false;
    const report = this.sessions.report ?? this.sessions.current?.snapshot();
    if (!report) {
      this.post({ type: 'snapshot', model: emptyMapModel('No scenario is loaded. Open a *.iommu.yaml file and run it to see its domains here.') });
      return;
    }
    const model = buildMapModel(report, chooseDomain(report, [this.domainId, this.sessions.lastTouched?.domain]));
    this.domainId = model.domain?.id ?? this.domainId;
    for (const p of model.problems) this.log.warn(`address map: ${p}`);
    this.post({ type: 'snapshot', model });
  }

  private post(m: HostToWebview): void {
    void this.panel.webview.postMessage(m);
    this.posted.fire(m);
  }

  /** Everything the webview posts comes through here; a webview is a browser page, so nothing is trusted. */
  async receive(raw: unknown): Promise<string | undefined> {
    const m = validateWebviewMessage(raw);
    if ('error' in m) {
      this.log.error(`address map: rejected a message from the webview: ${m.error}`);
      return m.error;
    }
    try {
      await this.handle(m);
    } catch (e) {
      this.log.error(`address map: ${m.type} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return undefined;
  }

  private async handle(m: WebviewToHost): Promise<void> {
    switch (m.type) {
      case 'ready': {
        this.ready = true;
        if (m.state) this.state = m.state;
        const pending = this.pendingFocus;
        this.pendingFocus = null;
        this.domainId = chooseDomain(this.sessions.report, [pending?.domainId, this.state?.domainId, this.domainId,
          this.sessions.lastTouched?.domain]);
        if (pending && this.domainId) this.post({ type: 'selectDomain', domainId: this.domainId, focus: pending.focus });
        this.sendSnapshot();
        return;
      }
      case 'selectDomain':
        this.domainId = m.domainId;
        this.sendSnapshot();
        return;
      case 'stateChanged':
        this.state = m.state;
        return;
      case 'requestWalk': {
        const session = this.sessions.current as { walk?: WalkFn } | undefined;
        const walk = session && typeof session.walk === 'function' ? session.walk.bind(session) : undefined;
        const type = this.sessions.report?.domains.find(d => d.id === m.domainId)?.type;
        const reply = session ? walkMessage(walk, m.domainId, m.iova, type)
          : { type: 'walk' as const, domainId: m.domainId, iova: m.iova, error: 'No scenario is loaded.' };
        this.post(reply);
        return;
      }
      case 'reveal':
        if (await commandExists('iommuLens.revealInTree')) {
          await vscode.commands.executeCommand('iommuLens.revealInTree', treeRevealArg(this.sessions.report, m.target));
        }
        return;
      case 'goToSource':
        if (await commandExists('iommuLens.goToSource')) {
          await this.activateGroupBesideMap();
          await vscode.commands.executeCommand('iommuLens.goToSource', m.site);
        }
        return;
    }
  }

  /**
   * Go to Source opens the file in the active editor group, which after a click on the map is the map's own: the
   * file would cover the map and VS Code would drop the hidden webview (and its walk panel). Make the nearest other
   * group active first, or a new one left of the map when it is alone.
   */
  private async activateGroupBesideMap(): Promise<void> {
    const mine = this.panel.viewColumn;
    if (mine === undefined) return;
    const others = vscode.window.tabGroups.all.map(g => g.viewColumn).filter(c => c !== mine);
    if (!others.length) {
      await vscode.commands.executeCommand('workbench.action.newGroupLeft');
      return;
    }
    const nearest = others.reduce((a, b) => (Math.abs(b - mine) < Math.abs(a - mine) ? b : a));
    const focus = GROUP_FOCUS_COMMANDS[nearest - 1];
    if (focus) await vscode.commands.executeCommand(focus);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.onGone();
    this.panel.dispose();
  }
}

const GROUP_FOCUS_COMMANDS = ['First', 'Second', 'Third', 'Fourth', 'Fifth', 'Sixth', 'Seventh', 'Eighth']
  .map(n => `workbench.action.focus${n}EditorGroup`);

let known: Set<string> | undefined;
async function commandExists(id: string): Promise<boolean> {
  if (!known?.has(id)) known = new Set(await vscode.commands.getCommands(true));
  return known.has(id);
}

/**
 * Registers `iommuLens.showMap` (argument: the tree's MapFocus `{ domain?, iova?, paddr?, dev? }`) and the
 * serializer that restores an open map when VS Code reloads.
 */
export function registerAddressMap(context: vscode.ExtensionContext, sessions: SessionStore): AddressMapApi {
  const log = vscode.window.createOutputChannel('IOMMU Lens: Address Map', { log: true });
  const posted = new vscode.EventEmitter<HostToWebview>();
  let current: MapPanel | undefined;
  const adopt = (panel: vscode.WebviewPanel, state: MapViewState | null): MapPanel => {
    const p: MapPanel = new MapPanel(panel, context, sessions, log, state, posted, () => { if (current === p) current = undefined; });
    current = p;
    return p;
  };
  context.subscriptions.push(
    log, posted,
    vscode.commands.registerCommand('iommuLens.showMap', (arg?: unknown) => {
      if (!current) {
        const panel = vscode.window.createWebviewPanel(MAP_VIEW_TYPE, 'IOMMU Address Map', vscode.ViewColumn.Beside,
          { enableScripts: true, retainContextWhenHidden: false,
            localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist'), vscode.Uri.joinPath(context.extensionUri, 'media')] });
        adopt(panel, null);
      }
      current!.show(arg);
    }),
    vscode.window.registerWebviewPanelSerializer(MAP_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, saved: unknown) {
        let state: MapViewState | null = null;
        if (saved) {
          try {
            state = validateMapViewState(saved, 'state');
          } catch (e) {
            log.warn(`address map: ignoring saved state: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        current?.dispose();
        adopt(panel, state);
      },
    }),
    { dispose: () => current?.dispose() },
  );
  return {
    get panel() { return current?.panel; },
    receive: raw => current ? current.receive(raw) : Promise.resolve('the address map is not open'),
    onDidPost: posted.event,
  };
}
