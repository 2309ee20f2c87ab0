import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import { requireRecord, type RecordAccess } from './access';
import {
  attachmentPackets,
  deleteAttachment,
  downloadAttachment,
  uploadAttachment,
} from './attachments';
import { rekeyRecord } from './rekey';
import * as records from './use-cases';

type RecordHandlers = Pick<
  Handlers<RecordAccess>,
  | 'createRecord'
  | 'listRecords'
  | 'teamRecords'
  | 'getRecord'
  | 'updateRecord'
  | 'rekeyRecord'
  | 'deleteRecord'
  | 'recordHistory'
  | 'getRecordVersion'
  | 'uploadAttachment'
  | 'downloadAttachment'
  | 'deleteAttachment'
  | 'attachmentPackets'
>;

export function recordHandlers(s: Services): RecordHandlers {
  return {
    createRecord: ({ auth, body }) => records.createRecord(s, auth.userId, body),
    listRecords: ({ auth, query }) => records.listRecords(s, auth.userId, query),
    teamRecords: ({ auth, params, query }) =>
      records.listTeamRecords(s, auth.userId, params.teamId, query),
    getRecord: ({ auth, access }) => records.getRecord(s, requireRecord(access), auth.userId),
    updateRecord: ({ auth, access, body }) =>
      records.updateRecord(s, requireRecord(access), auth.userId, body, access?.role),
    rekeyRecord: ({ auth, access, body }) =>
      rekeyRecord(s, requireRecord(access), auth.userId, body),
    deleteRecord: ({ auth, access, params }) =>
      records.deleteRecord(s, {
        recordId: params.recordId,
        record: access?.record ?? null,
        actorId: auth.userId,
      }),
    recordHistory: ({ access }) => records.recordHistory(s, requireRecord(access)),
    getRecordVersion: ({ auth, access, params }) =>
      records.getRecordVersion(s, requireRecord(access), auth.userId, params.version),
    uploadAttachment: ({ auth, access, body }) =>
      uploadAttachment(s, requireRecord(access), auth.userId, body),
    downloadAttachment: ({ auth, access, params, res }) =>
      downloadAttachment(s, requireRecord(access), auth.userId, params.attachmentId, res),
    deleteAttachment: ({ auth, access, params }) =>
      deleteAttachment(s, requireRecord(access), auth.userId, params.attachmentId),
    attachmentPackets: ({ access, params }) =>
      attachmentPackets(s, requireRecord(access), params.attachmentId),
  };
}
