// The one place that holds the running scenario. Views (tree, status bar, address map, annotations) read
// `current`, `report` and `lastTouched` and refresh on `onDidChange`; commands change it through the store so
// every view sees the same run.
import * as vscode from 'vscode';
import type { Session } from '../simulator/session';
import type { Report } from '../simulator/report/types';
import { touchedByStep, TouchedItem } from './tree/touched';

export type { TouchedItem } from './tree/touched';

/** Where the current session's text came from. */
export interface ScenarioSource {
  /** the scenario document (a workspace file, or an iommu-lens: document for built-ins and presets) */
  uri: vscode.Uri;
  /** short name for titles and the status bar */
  label: string;
  /** a scenario runs in a Session; an imported kernel trace only has a report */
  kind: 'scenario' | 'trace';
}

export type SessionChangeReason = 'load' | 'step' | 'run' | 'reset' | 'clear';

export interface SessionChange {
  reason: SessionChangeReason;
}

/**
 * What another view needs from the extension. The address map gets this from `registerAddressMap(context, sessions)`.
 * Commands it may call: `iommuLens.revealInTree` with a `TouchedItem`-like target, `iommuLens.goToSource` with a site.
 */
export interface SessionStore {
  /** the loaded session; undefined before a scenario is opened and for an imported trace (which has only `report`) */
  readonly current: Session | undefined;
  readonly source: ScenarioSource | undefined;
  /** `current.snapshot()` taken after the last change; build views from this instead of snapshotting again */
  readonly report: Report | undefined;
  /** what the last executed step touched (mapping, device, fault, finding), for reveal and highlight */
  readonly lastTouched: TouchedItem | undefined;
  /** fired after every load, step, run, reset and clear */
  readonly onDidChange: vscode.Event<SessionChange>;
}

/** Argument `iommuLens.showMap` accepts to scroll the map to one place (all fields optional). */
export interface MapFocus {
  domain?: string;
  iova?: string;
  paddr?: string;
  dev?: string;
}

export class ScenarioSessionStore implements SessionStore, vscode.Disposable {
  private session: Session | undefined;
  private src: ScenarioSource | undefined;
  private cached: Report | undefined;
  private touched: TouchedItem | undefined;
  private imported: Report | undefined;
  private readonly emitter = new vscode.EventEmitter<SessionChange>();
  readonly onDidChange = this.emitter.event;

  get current(): Session | undefined { return this.session; }
  get source(): ScenarioSource | undefined { return this.src; }
  get report(): Report | undefined { return this.cached; }
  get lastTouched(): TouchedItem | undefined { return this.touched; }

  /** Replaces the session (nothing has run yet). */
  load(session: Session, source: ScenarioSource): void {
    this.session = session;
    this.imported = undefined;
    this.src = source;
    this.changed('load');
  }

  /** Shows a report that has no session behind it (an imported kernel trace). */
  loadReport(report: Report, source: ScenarioSource): void {
    this.session = undefined;
    this.imported = report;
    this.src = source;
    this.changed('load');
  }

  clear(): void {
    this.session = undefined;
    this.imported = undefined;
    this.src = undefined;
    this.changed('clear');
  }

  /** Call after the session ran steps or was reset: takes the snapshot once and tells every view. */
  changed(reason: SessionChangeReason): void {
    this.cached = this.session ? this.session.snapshot() : this.imported;
    const steps = this.cached?.steps ?? [];
    this.touched = steps.length ? touchedByStep(this.cached!, steps[steps.length - 1]) : undefined;
    void vscode.commands.executeCommand('setContext', 'iommuLens.sessionLoaded', this.cached !== undefined);
    void vscode.commands.executeCommand('setContext', 'iommuLens.sessionDone', this.session?.done ?? false);
    this.emitter.fire({ reason });
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
