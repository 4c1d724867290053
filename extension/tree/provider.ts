// Shows model nodes (./model.ts) in a TreeView. The nodes are rebuilt from the store's report after every
// change; ids stay stable so VS Code keeps expansion and selection.
import * as vscode from 'vscode';
import type { Report } from '../../simulator/report/types';
import type { SessionStore } from '../sessionStore';
import type { TouchedItem } from './touched';
import { TreeNode, walk } from './node';

export interface ModelTreeOptions {
  viewId: string;
  build: (report: Report) => TreeNode[];
  /** the node to reveal after a step, if any */
  nodeForTouched: (roots: TreeNode[], t: TouchedItem) => TreeNode | undefined;
}

export class ModelTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private roots: TreeNode[] = [];
  private parents = new Map<string, TreeNode | undefined>();
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<TreeNode>;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly store: SessionStore, private readonly opts: ModelTreeOptions) {
    this.view = vscode.window.createTreeView(opts.viewId, { treeDataProvider: this, showCollapseAll: true });
    this.subscriptions.push(this.view, this.changed, store.onDidChange(() => this.refresh()));
    this.refresh();
  }

  /** The current nodes (for tests and for commands that act on the tree). */
  get nodes(): readonly TreeNode[] { return this.roots; }

  refresh(): void {
    const report = this.store.report;
    this.roots = report ? this.opts.build(report) : [];
    this.parents.clear();
    walk(this.roots, (n, p) => this.parents.set(n.id, p));
    this.changed.fire(undefined);
    void this.revealTouched();
  }

  hasNodeFor(t: TouchedItem): boolean {
    return this.opts.nodeForTouched(this.roots, t) !== undefined;
  }

  /** Reveals (and selects) what the last step touched, when the view is visible. */
  async revealTouched(t: TouchedItem | undefined = this.store.lastTouched, focus = false): Promise<boolean> {
    if (!t) return false;
    const node = this.opts.nodeForTouched(this.roots, t);
    if (!node || (!this.view.visible && !focus)) return !!node;
    try {
      await this.view.reveal(node, { select: true, focus, expand: false });
    } catch {
      // the view may be disposed or hidden meanwhile: reveal is a convenience, never an error for the user
    }
    return true;
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    const state = n.children.length === 0 ? vscode.TreeItemCollapsibleState.None
      : n.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
    const item = new vscode.TreeItem(n.label, state);
    item.id = n.id;
    item.description = n.description;
    item.contextValue = n.contextValue;
    item.iconPath = new vscode.ThemeIcon(n.icon, n.iconColor ? new vscode.ThemeColor(n.iconColor) : undefined);
    if (n.tooltip) {
      const md = new vscode.MarkdownString(n.tooltip, true);
      md.supportHtml = false;
      item.tooltip = md;
    }
    item.accessibilityInformation = { label: [n.label, n.description].filter(Boolean).join(', ') };
    if (n.kind === 'fault' || n.kind === 'finding' || n.kind === 'expectation' || n.kind === 'oops') {
      item.command = { command: 'iommuLens.openNode', title: 'Open', arguments: [n] };
    }
    return item;
  }

  getChildren(n?: TreeNode): TreeNode[] {
    return n ? n.children : this.roots;
  }

  getParent(n: TreeNode): TreeNode | undefined {
    return this.parents.get(n.id);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
