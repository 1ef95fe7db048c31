/**
 * The Jobs list as a Lumino widget, added under the clusters in the GPU clusters sidebar.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { JobList } from '../components/JobList';
import { JobListModel } from '../jobsModel';
import { IJobActions } from '../jobTokens';

export function jobsSection(options: {
  model: JobListModel;
  actions: IJobActions;
  trans: TranslationBundle;
}): ReactWidget {
  const widget = ReactWidget.create(React.createElement(JobList, options));
  widget.addClass('jp-RapidsKF-jobsSection');
  return widget;
}
