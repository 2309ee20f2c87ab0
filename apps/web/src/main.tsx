import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { CLIENT_STATUS_HEADER, CLIENT_VERSION_HEADER, CSRF_HEADER } from '@medseal/contract';
import { App } from './App';
import { createHttp } from './api/http';
import { createLiveFeed } from './api/live';
import { ClientStatusStore } from './app/clientStatus';
import { localToday } from './app/services';
import { config } from './config';
import { spawnCryptoWorker } from './crypto/spawn';
import { spawnRecordSearch } from './features/search/spawn';
import './styles.css';

const clientStatus = new ClientStatusStore();
const call = createHttp({
  baseUrl: config.apiBase,
  clientVersion: config.clientVersion,
  csrfHeader: CSRF_HEADER,
  clientVersionHeader: CLIENT_VERSION_HEADER,
  clientStatusHeader: CLIENT_STATUS_HEADER,
  onClientStatus: clientStatus.set,
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App
      services={{
        call,
        crypto: spawnCryptoWorker(),
        live: createLiveFeed(config.apiBase),
        search: spawnRecordSearch,
        today: localToday,
      }}
      clientStatus={clientStatus}
    />
  </StrictMode>,
);
