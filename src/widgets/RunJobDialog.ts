/**
 * The dialog of "Run as GPU job" and "Export as pipeline": the RunJobForm in a JupyterLab
 * Dialog; resolves with the request, or null when cancelled.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import {
  initialValues,
  IRunJobValues,
  RunJobForm,
  toRequest
} from '../components/RunJobForm';
import { IJobRequest } from '../jobTokens';
import { IEnvironment } from '../tokens';

class RunJobBody
  extends ReactWidget
  implements Dialog.IBodyWidget<IRunJobValues>
{
  constructor(
    private readonly _path: string,
    private readonly _environment: IEnvironment | null,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.values = initialValues(_environment);
  }

  values: IRunJobValues;

  getValue(): IRunJobValues {
    return this.values;
  }

  render(): JSX.Element {
    return React.createElement(RunJobForm, {
      path: this._path,
      environment: this._environment,
      trans: this._trans,
      values: this.values,
      onChange: (values: IRunJobValues) => {
        this.values = values;
        this.update();
      }
    });
  }
}

/** Asks for the job's cluster and parameters; a string is what is wrong with them. */
export async function askForJob(
  path: string,
  environment: IEnvironment | null,
  trans: TranslationBundle,
  what: 'job' | 'pipeline'
): Promise<IJobRequest | string | null> {
  const body = new RunJobBody(path, environment, trans);
  const result = await showDialog({
    title:
      what === 'job'
        ? trans.__('Run as GPU job')
        : trans.__('Export as pipeline'),
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({
        label: what === 'job' ? trans.__('Run') : trans.__('Export')
      })
    ]
  });
  if (!result.button.accept || !result.value) {
    return null;
  }
  return toRequest(path, result.value, trans);
}
