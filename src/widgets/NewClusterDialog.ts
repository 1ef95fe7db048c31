/**
 * The New GPU cluster dialog. Unlike a plain dialog it stays open when the server refuses
 * the request: the error shows next to its field (or above the form) and nothing typed is
 * lost. It closes with the created cluster once the server accepted it.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import {
  CHECKED_AS_TYPED,
  errorsFromServer,
  FormErrors,
  FormField,
  IFormValues,
  initialValues,
  toRequest,
  validate,
  withProfile
} from '../components/clusterForm';
import { getImageNodes } from '../api';
import { NewClusterForm } from '../components/NewClusterForm';
import { ICluster, IClusterRequest, IEnvironment } from '../tokens';

/** The form's body: holds the values and errors, renders the controlled form. */
export class NewClusterBody
  extends ReactWidget
  implements Dialog.IBodyWidget<ICluster | null>
{
  constructor(
    readonly environment: IEnvironment,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.values = initialValues(environment);
    this.addClass('jp-RapidsKF-newCluster');
  }

  values: IFormValues;
  errors: FormErrors = {};
  busy = false;
  /** Raised on a refused submit: the form then moves focus to the first bad field. */
  focusRequest = 0;
  created: ICluster | null = null;

  getValue(): ICluster | null {
    return this.created;
  }

  render(): JSX.Element {
    return React.createElement(NewClusterForm, {
      environment: this.environment,
      values: this.values,
      errors: this.errors,
      busy: this.busy,
      focusRequest: this.focusRequest,
      trans: this._trans,
      findImage:
        this.environment.backend === 'kubernetes' ? getImageNodes : undefined,
      onChange: (field: FormField, value: string) => {
        this.values =
          field === 'profile'
            ? withProfile(this.values, this.environment, value)
            : { ...this.values, [field]: value };
        if (this.errors[field] || this.errors.form) {
          const {
            [field]: _dropped,
            form: _form,
            fix: _fix,
            ...rest
          } = this.errors;
          this.errors = rest;
        }
        if (CHECKED_AS_TYPED.includes(field)) {
          // Numbers with a known limit are checked at once, next to the field, instead of
          // the browser's silent :invalid (which would grey out Create with no word).
          const found = validate(this.values, this.environment, this._trans);
          const errors: FormErrors = { ...this.errors };
          for (const checked of CHECKED_AS_TYPED) {
            if (found[checked]) {
              errors[checked] = found[checked];
            } else {
              delete errors[checked];
            }
          }
          this.errors = errors;
        }
        this.update();
      }
    });
  }
}

export class NewClusterDialog extends Dialog<ICluster | null> {
  constructor(options: {
    environment: IEnvironment;
    trans: TranslationBundle;
    create: (request: IClusterRequest) => Promise<ICluster>;
  }) {
    const { trans } = options;
    const body = new NewClusterBody(options.environment, trans);
    const buttons = [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Create') })
    ];
    super({
      title: trans.__('New GPU cluster'),
      body,
      buttons,
      defaultButton: 1,
      focusNodeSelector: 'input'
    });
    this._form = body;
    this._buttonList = buttons;
    this._create = options.create;
    this._trans = trans;
    this.addClass('jp-RapidsKF-dialog');
    // The <dialog> gets its accessible name from its visible title.
    const title = this.node.querySelector('.jp-Dialog-header');
    if (title) {
      title.id = `jp-RapidsKF-dialog-title-${++NewClusterDialog._count}`;
      this.node.setAttribute('aria-labelledby', title.id);
    } else {
      this.node.setAttribute('aria-label', trans.__('New GPU cluster'));
    }
  }

  private static _count = 0;

  /** The accept button sends the request first; the dialog closes only on success. */
  resolve(index?: number): void {
    const button = this._buttonList[index ?? 1];
    if (!button?.accept) {
      super.resolve(index);
      return;
    }
    if (this._form.busy) {
      return;
    }
    void this._submit(index ?? 1);
  }

  private async _submit(index: number): Promise<void> {
    const body = this._form;
    const errors = validate(body.values, body.environment, this._trans);
    if (Object.keys(errors).length > 0) {
      body.errors = errors;
      body.focusRequest += 1;
      body.update();
      return;
    }
    body.busy = true;
    body.errors = {};
    body.update();
    try {
      body.created = await this._create(
        toRequest(body.values, body.environment)
      );
    } catch (error) {
      body.errors = errorsFromServer(error, this._trans);
      body.focusRequest += 1;
      body.busy = false;
      body.update();
      return;
    }
    body.busy = false;
    super.resolve(index);
  }

  private _form: NewClusterBody;
  private _buttonList: Dialog.IButton[];
  private _create: (request: IClusterRequest) => Promise<ICluster>;
  private _trans: TranslationBundle;
}
