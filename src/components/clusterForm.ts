/**
 * The values of the New GPU cluster form, as typed, and how they become a ClusterRequest.
 * Kept apart from the view so the rules are tested without a DOM.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { APIError } from '../api';
import {
  IClusterRequest,
  IEnvironment,
  Protocol,
  workerLimit
} from '../tokens';

/** Every field as the user typed it (strings, so a half-typed number is kept). */
export interface IFormValues {
  name: string;
  profile: string;
  workers: string;
  gpus_per_worker: string;
  image: string;
  cpu: string;
  memory: string;
  worker_command: string;
  idle_timeout: string;
  /** KEY=VALUE lines. */
  env: string;
  /** Seconds (Kubernetes only); 0: no limit. */
  lifetime: string;
  /** 'yes' or 'no': end with the notebook (Kubernetes, where one was found). */
  tie_to_notebook: string;
  /** 'tcp' or 'ucx'; chosen (and sent) only for GPU clusters. */
  protocol: string;
}

export type FormField = keyof IFormValues;

/** Messages per field; `form` for what belongs to no field, `fix` for the server's fix. */
export type FormErrors = Partial<Record<FormField | 'form' | 'fix', string>>;

export const FIELDS: FormField[] = [
  'name',
  'profile',
  'workers',
  'gpus_per_worker',
  'protocol',
  'image',
  'cpu',
  'memory',
  'worker_command',
  'idle_timeout',
  'lifetime',
  'env',
  'tie_to_notebook'
];

/** Fields checked as they are typed: their limits are known here, so say so at once. */
export const CHECKED_AS_TYPED: FormField[] = [
  'workers',
  'gpus_per_worker',
  'idle_timeout',
  'lifetime'
];

/** The first field with an error, in the order the form shows them. */
export function firstError(errors: FormErrors): FormField | undefined {
  return FIELDS.find(field => errors[field]);
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The values a profile (or none) starts from: the server's defaults, then the profile. */
export function baseValues(
  environment: IEnvironment,
  profile: string
): Omit<IFormValues, 'name' | 'profile'> {
  const defaults = environment.defaults;
  const chosen = environment.profiles.find(p => p.name === profile);
  const request: IClusterRequest = {
    ...defaults,
    image: defaults.image ?? undefined,
    ...(chosen?.request ?? {})
  };
  return {
    workers: String(request.workers ?? ''),
    gpus_per_worker: String(request.gpus_per_worker ?? ''),
    image: request.image ?? '',
    cpu: request.cpu ?? '',
    memory: request.memory ?? '',
    worker_command: request.worker_command ?? '',
    idle_timeout: String(request.idle_timeout ?? ''),
    lifetime: String(request.lifetime ?? 0),
    env: Object.entries(request.env ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join('\n'),
    tie_to_notebook: request.tie_to_notebook ? 'yes' : 'no',
    protocol: request.protocol ?? 'tcp'
  };
}

/** The protocols the form offers: UCX only for GPU clusters, and where the server has it. */
export function protocolChoices(
  values: IFormValues,
  environment: IEnvironment
): Protocol[] {
  return (integer(values.gpus_per_worker) ?? 0) > 0
    ? (environment.protocols ?? ['tcp'])
    : ['tcp'];
}

export function initialValues(environment: IEnvironment): IFormValues {
  return {
    name: environment.defaults.name,
    profile: '',
    ...baseValues(environment, '')
  };
}

/** Choosing a profile fills the form with its values; the name stays. */
export function withProfile(
  values: IFormValues,
  environment: IEnvironment,
  profile: string
): IFormValues {
  return { name: values.name, profile, ...baseValues(environment, profile) };
}

/** Whether the image can be chosen here (the local backend runs in this environment). */
export function imageAllowed(environment: IEnvironment): boolean {
  return environment.defaults.image !== null;
}

function parseEnv(text: string): Record<string, string> | string {
  const env: Record<string, string> = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) {
      continue;
    }
    const equals = line.indexOf('=');
    const key = equals === -1 ? line : line.slice(0, equals).trim();
    if (equals === -1 || !ENV_KEY.test(key)) {
      return String(index + 1);
    }
    env[key] = line.slice(equals + 1).trim();
  }
  return env;
}

function integer(text: string): number | null {
  return /^\s*\d+\s*$/.test(text) ? parseInt(text, 10) : null;
}

/** What can be checked before asking the server; the server has the last word. */
export function validate(
  values: IFormValues,
  environment: IEnvironment,
  trans: TranslationBundle
): FormErrors {
  const errors: FormErrors = {};
  const { limits } = environment;
  if (!NAME.test(values.name) || values.name.length > 53) {
    errors.name = trans.__(
      'Use at most 53 lowercase letters, digits and "-", starting and ending with a letter or digit.'
    );
  }
  const maxWorkers = workerLimit(limits, integer(values.gpus_per_worker) ?? 0);
  const workers = integer(values.workers);
  if (workers === null || workers > maxWorkers) {
    errors.workers = trans.__('Enter a whole number from 0 to %1.', maxWorkers);
  }
  const gpus = integer(values.gpus_per_worker);
  if (gpus === null || gpus > limits.max_gpus_per_worker) {
    errors.gpus_per_worker = trans.__(
      'Enter a whole number from 0 to %1.',
      limits.max_gpus_per_worker
    );
  }
  if (integer(values.idle_timeout) === null) {
    errors.idle_timeout = trans.__(
      'Enter a number of seconds (0: never stop).'
    );
  }
  if (integer(values.lifetime) === null) {
    errors.lifetime = trans.__('Enter a number of seconds (0: no limit).');
  }
  if (imageAllowed(environment) && !values.image.trim()) {
    errors.image = trans.__('Enter an image.');
  }
  const env = parseEnv(values.env);
  if (typeof env === 'string') {
    errors.env = trans.__('Line %1 is not NAME=value.', env);
  }
  return errors;
}

/** The request: the name, the profile, and what differs from the profile's values. */
export function toRequest(
  values: IFormValues,
  environment: IEnvironment
): IClusterRequest {
  const base = baseValues(environment, values.profile);
  const request: IClusterRequest = { name: values.name.trim() };
  if (values.profile) {
    request.profile = values.profile;
  }
  const changed = (field: keyof typeof base) =>
    values[field].trim() !== base[field].trim();
  if (changed('workers')) {
    request.workers = integer(values.workers) ?? undefined;
  }
  if (changed('gpus_per_worker')) {
    request.gpus_per_worker = integer(values.gpus_per_worker) ?? undefined;
  }
  if (imageAllowed(environment) && changed('image')) {
    request.image = values.image.trim();
  }
  for (const field of ['cpu', 'memory', 'worker_command'] as const) {
    if (changed(field)) {
      request[field] = values[field].trim();
    }
  }
  if (changed('idle_timeout')) {
    request.idle_timeout = integer(values.idle_timeout) ?? undefined;
  }
  if (changed('lifetime')) {
    request.lifetime = integer(values.lifetime) ?? undefined;
  }
  // A CPU cluster talks TCP: a profile's ucx is undone when the user chose 0 GPUs.
  const protocol = protocolChoices(values, environment).includes(
    values.protocol as Protocol
  )
    ? values.protocol
    : 'tcp';
  if (protocol !== base.protocol) {
    request.protocol = protocol as Protocol;
  }
  if (changed('tie_to_notebook')) {
    request.tie_to_notebook = values.tie_to_notebook === 'yes';
  }
  if (changed('env')) {
    const env = parseEnv(values.env);
    if (typeof env !== 'string') {
      request.env = env;
    }
  }
  return request;
}

/** Where a server error shows: next to its field when the form has one. */
export function errorsFromServer(
  error: unknown,
  trans: TranslationBundle
): FormErrors {
  if (!(error instanceof APIError)) {
    return { form: (error as Error)?.message ?? String(error) };
  }
  const field = (error.field ?? '').split('.')[0] as FormField;
  const errors: FormErrors = {};
  let message = error.message;
  if (error.code === 'exists') {
    message = trans.__('%1. Choose another name.', error.message);
  }
  if (FIELDS.includes(field)) {
    errors[field] = message;
  } else {
    errors.form = message;
  }
  if (error.fix) {
    errors.fix = error.fix;
  }
  return errors;
}
