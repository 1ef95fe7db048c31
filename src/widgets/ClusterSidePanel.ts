/**
 * The "GPU clusters" sidebar: a SidePanel with a toolbar, whose content is the React
 * ClusterPanel. It tells the model when it is shown so the live feed can stand by.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { CommandToolbarButton, SidePanel } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { Panel } from '@lumino/widgets';
import * as React from 'react';

import { ClusterPanel } from '../components/ClusterPanel';
import { gpuClustersIcon } from '../icons';
import { ClusterListModel } from '../model';
import { CommandIDs, IClusterActions } from '../tokens';

export interface IClusterSidePanelOptions {
  model: ClusterListModel;
  actions: IClusterActions;
  commands: CommandRegistry;
  trans: TranslationBundle;
}

export class ClusterSidePanel extends SidePanel {
  static readonly ID = 'jp-RapidsKF-sidebar';

  constructor(options: IClusterSidePanelOptions) {
    // A plain content panel: one section needs no accordion title of its own.
    const content = new Panel();
    content.addClass('jp-RapidsKF-content');
    super({ content });
    const { model, actions, commands, trans } = options;
    this._model = model;
    this.id = ClusterSidePanel.ID;
    this.addClass('jp-RapidsKF-sidebar');
    this.title.icon = gpuClustersIcon;
    this.title.caption = trans.__('GPU clusters');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('GPU clusters'));

    const heading = ReactWidget.create(
      React.createElement(
        'h2',
        { className: 'jp-RapidsKF-title' },
        trans.__('GPU clusters')
      )
    );
    this.header.addWidget(heading);
    for (const id of [CommandIDs.newCluster, CommandIDs.refresh]) {
      this.toolbar.addItem(
        id,
        new CommandToolbarButton({ commands, id, args: { toolbar: true } })
      );
    }
    this.addWidget(
      ReactWidget.create(
        React.createElement(ClusterPanel, { model, actions, trans })
      )
    );
    document.addEventListener('visibilitychange', this._onVisibility);
  }

  dispose(): void {
    document.removeEventListener('visibilitychange', this._onVisibility);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._update();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._update();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._update();
  }

  private _update(): void {
    this._model.setVisible(
      this.isVisible && document.visibilityState !== 'hidden'
    );
  }

  private _onVisibility = (): void => this._update();
  private _model: ClusterListModel;
}
