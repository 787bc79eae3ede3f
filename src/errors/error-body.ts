import type { DroverError } from '@drover/runtime';
import { ERROR_TABLE } from './error-table';

export function openAiErrorBody(err: DroverError): { error: { message: string; type: string; param: string | null; code: string } } {
  return { error: { message: err.message, type: ERROR_TABLE[err.code].openaiType, param: err.param, code: err.code } };
}

export function anthropicErrorBody(err: DroverError): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type: ERROR_TABLE[err.code].anthropicType, message: err.message } };
}

export function statusOf(err: DroverError): number {
  return ERROR_TABLE[err.code].status;
}
