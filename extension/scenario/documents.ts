// Which documents are scenarios, and read-only `iommu-lens:` documents for the built-in scenarios and the
// scenarios generated for a preset (so they can be read, stepped and annotated like files).
import * as vscode from 'vscode';

export const VIRTUAL_SCHEME = 'iommu-lens';
export const SCENARIO_GLOB = '**/*.iommu.{yaml,yml,json}';
export const SCENARIO_SELECTOR: vscode.DocumentSelector = [
  { pattern: SCENARIO_GLOB },
  { scheme: VIRTUAL_SCHEME, pattern: SCENARIO_GLOB },
];

export function isScenarioUri(uri: vscode.Uri): boolean {
  return /\.iommu\.(ya?ml|json)$/i.test(uri.path);
}

/** The name a scenario's errors are reported under: workspace-relative path, or the virtual path. */
export function scenarioFileName(uri: vscode.Uri): string {
  if (uri.scheme === VIRTUAL_SCHEME) return uri.path.replace(/^\//, '');
  return vscode.workspace.asRelativePath(uri, false);
}

export class VirtualScenarios implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(VIRTUAL_SCHEME, this);

  /** Stores TEXT under iommu-lens:/KIND/NAME.iommu.yaml and returns the uri. */
  put(kind: 'builtin' | 'preset', name: string, text: string): vscode.Uri {
    const file = /\.iommu\.(ya?ml|json)$/.test(name) ? name : `${name}.iommu.yaml`;
    const uri = vscode.Uri.from({ scheme: VIRTUAL_SCHEME, path: `/${kind}/${file}` });
    const old = this.texts.get(uri.toString());
    this.texts.set(uri.toString(), text);
    if (old !== undefined && old !== text) this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? `# ${uri.path}: this scenario is no longer available; open it again.\n`;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
