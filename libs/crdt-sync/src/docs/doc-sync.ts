import { DEFAULT_SYNC_LIMITS, type SyncLimits } from '../limits';
import { decodeMessage, encodeMessage } from '../wire/envelope';
import type { SyncMessage } from '../wire/messages';
import { compareEpoch } from './epoch';
import type { RegistryDoc } from './registry-doc';

/**
 * The document sync protocol as plain functions (after y-protocols): read a message, change the
 * document, maybe return a reply. No transport, no timers.
 *
 *   same epoch:   step1(sv) → step2(diff since sv);  step2/update → apply
 *   peer older:   anything  → step2(full state of my epoch): the peer adopts it
 *   peer newer:   step2(full) → adopt;  anything else → step1(mine), which makes the peer send full
 */
export type DocSyncMessage = Extract<SyncMessage, { type: 'doc-step1' | 'doc-step2' | 'doc-update' }>;

export interface DocSyncOutcome {
  reply?: DocSyncMessage;
  /** The message changed (or could have changed) the document. */
  applied: boolean;
  /** The message carried an update or state vector that did not decode. */
  malformed: boolean;
  /** This message made the document adopt a newer epoch. */
  adopted: boolean;
}

export function syncStep1(doc: RegistryDoc): DocSyncMessage {
  return { type: 'doc-step1', epoch: doc.epoch, stateVector: doc.stateVector() };
}

export function fullStateMessage(doc: RegistryDoc): DocSyncMessage {
  return { type: 'doc-step2', epoch: doc.epoch, full: true, update: doc.fullState() };
}

export function handleDocSync(doc: RegistryDoc, msg: DocSyncMessage): DocSyncOutcome {
  const outcome: DocSyncOutcome = { applied: false, malformed: false, adopted: false };
  const order = compareEpoch(msg.epoch, doc.epoch);
  if (order < 0) {
    outcome.reply = fullStateMessage(doc);
    return outcome;
  }
  if (msg.type === 'doc-step1') {
    if (order > 0) {
      outcome.reply = syncStep1(doc);
      return outcome;
    }
    const diff = doc.diffSince(msg.stateVector);
    if (diff === undefined) outcome.malformed = true;
    else outcome.reply = { type: 'doc-step2', epoch: doc.epoch, full: false, update: diff };
    return outcome;
  }
  if (order > 0) {
    if (msg.type === 'doc-step2' && msg.full) {
      outcome.adopted = doc.adopt(msg.epoch, msg.update);
      outcome.applied = outcome.adopted;
      outcome.malformed = !outcome.adopted;
    } else {
      outcome.reply = syncStep1(doc);
    }
    return outcome;
  }
  outcome.applied = doc.applyRemoteUpdate(msg.update);
  outcome.malformed = !outcome.applied;
  return outcome;
}

/** Byte-level step 1: the envelope to send a peer when a link opens. */
export function encodeSyncStep1(doc: RegistryDoc): Uint8Array {
  return encodeMessage(syncStep1(doc));
}

/**
 * Byte-level handler: decodes a document message, applies it and returns the encoded reply, if
 * any. Non-document or malformed messages give undefined.
 */
export function handleSyncMessage(doc: RegistryDoc, bytes: Uint8Array, limits: SyncLimits = DEFAULT_SYNC_LIMITS): Uint8Array | undefined {
  const msg = decodeMessage(bytes, limits);
  if (!msg || (msg.type !== 'doc-step1' && msg.type !== 'doc-step2' && msg.type !== 'doc-update')) return undefined;
  const { reply } = handleDocSync(doc, msg);
  return reply ? encodeMessage(reply) : undefined;
}
