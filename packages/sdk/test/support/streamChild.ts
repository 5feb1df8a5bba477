// Run in a child process by streaming.test.ts: proves the streaming data source never keeps a process
// alive. Once the first status arrives, the process must exit by itself, without process.exit, in every
// mode:
//   idle      the stream stays open after the first put (socket and read timer are pending)
//   stop      stop() is called after the first put
//   retrying  the server answers 503 and a 60 s reconnect timer is pending
import { streamingDataSource } from '../../src/datasource/streaming.js';
import { buildConfig } from '../../src/options/config.js';

const [url = '', mode = 'idle'] = process.argv.slice(2);
// Stands in for the application waiting for initialization with a timeout: the data source holds
// nothing that keeps the process alive, so without this the process would exit before connecting.
const waiting = setTimeout(() => process.stdout.write('no status\n'), 10_000);
const report = (line: string) => {
  clearTimeout(waiting);
  process.stdout.write(`${line}\n`);
};
const silent = { error() {}, warn() {}, info() {}, debug() {} };
const config = buildConfig('child-key', {
  baseUri: url,
  streamUri: url,
  eventsUri: url,
  streamInitialReconnectDelay: mode === 'retrying' ? 60 : 0.01,
  logger: silent,
});
const source = streamingDataSource({
  config,
  logger: silent,
  updates: { init: async () => {}, upsert: async () => {} },
  status: {
    ready() {
      report('ready');
      if (mode === 'stop') source.stop();
    },
    interrupted() {
      report('interrupted');
    },
    failed() {
      report('failed');
    },
  },
});
source.start();
