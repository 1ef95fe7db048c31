/**
 * The version handshake: the server extension must be there and of the same version.
 */
import { Notification } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { APIError, getEnvironment } from './api';
import { IEnvironment } from './tokens';

// The version of this frontend; the server extension must report the same one.
// eslint-disable-next-line @typescript-eslint/no-var-requires
export const FRONTEND_VERSION: string = require('../package.json').version;

/**
 * Checks that the server extension is installed and matches this frontend.
 * Resolves with the environment, or null (after telling the user) when it is unusable.
 */
export async function checkServer(
  translator: ITranslator = nullTranslator
): Promise<IEnvironment | null> {
  const trans = translator.load('jupyter_rapids_kf');
  try {
    const environment = await getEnvironment();
    if (environment.version !== FRONTEND_VERSION) {
      Notification.warning(
        trans.__(
          'GPU clusters: the server extension is version %1 but the JupyterLab extension is %2. Reinstall jupyter_rapids_kf and restart JupyterLab.',
          environment.version,
          FRONTEND_VERSION
        ),
        { autoClose: false }
      );
    }
    return environment;
  } catch (error) {
    const message =
      error instanceof APIError && error.status === 404
        ? trans.__(
            'GPU clusters: the jupyter_rapids_kf server extension is not enabled. Run "jupyter server extension enable jupyter_rapids_kf" and restart JupyterLab.'
          )
        : trans.__(
            'GPU clusters: the server extension does not answer: %1',
            (error as Error).message
          );
    Notification.error(message, { autoClose: false });
    return null;
  }
}
