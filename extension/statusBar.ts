// Status-bar item: platform, page sizes, mappings, faults, findings of the loaded run; click opens the map.
import * as vscode from 'vscode';
import type { SessionStore } from './sessionStore';
import { statusSummary } from './tree/summary';

export class RunStatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('iommuLens.status', vscode.StatusBarAlignment.Left, 50);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: SessionStore) {
    this.item.name = 'IOMMU Lens';
    this.item.command = { command: 'iommuLens.showMap', title: 'Show Address Map' };
    this.subscription = store.onDidChange(() => this.update());
    this.update();
  }

  update(): void {
    const report = this.store.report;
    const session = this.store.current;
    if (!report) {
      this.item.hide();
      return;
    }
    const s = statusSummary(report, session ? { cursor: session.cursor, total: session.total } : undefined);
    this.item.text = s.text;
    const tip = new vscode.MarkdownString(s.tooltip, true);
    this.item.tooltip = tip;
    // faults and findings are what scenarios are written to show; only a crash or a broken expect: is alarming
    const failedExpect = (report.expectations?.failed ?? 0) > 0 || report.steps.some(st => st.expectFailures?.length);
    this.item.backgroundColor = report.oops || failedExpect ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.accessibilityInformation = { label: `IOMMU Lens: ${s.text.replace(/\$\([\w-]+\)\s*/g, '')}` };
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
