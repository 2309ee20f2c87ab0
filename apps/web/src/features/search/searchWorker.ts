// The search worker: the index of decrypted records lives here, off the page's thread (issue 14).
import { expose } from 'comlink';
import { RecordSearchIndex } from './searchIndex';

expose(new RecordSearchIndex());
