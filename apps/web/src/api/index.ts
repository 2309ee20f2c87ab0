export { endpoints } from '@medseal/contract';
export { createHttp, type Call, type CallInput, type CallOutput, type EndpointLike } from './http';
export { ApiError, describeError, isApiError } from './errors';
