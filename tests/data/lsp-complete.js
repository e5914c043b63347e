// A minimal Language Server Protocol client for tests/schema_tools.rs: starts an LSP server
// over stdio, opens FILE, asks for the completions at LINE:CHARACTER (0-based) and prints them
// as JSON, [{label, insertText}]. The server is whatever SERVER names (yaml-language-server).
//
//   node lsp-complete.js SERVER FILE LINE CHARACTER
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [server, file, line, character] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');
const uri = 'file://' + path.resolve(file);
const child = spawn(server, ['--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
const settings = { yaml: { validate: true, hover: true, completion: true, schemaStore: { enable: false } } };
let buffer = Buffer.alloc(0);
let nextId = 1;
const pending = new Map();

function send(message) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }), 'utf8');
  child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
  child.stdin.write(body);
}

function request(method, params) {
  const id = nextId++;
  send({ id, method, params });
  return new Promise((resolve) => pending.set(id, resolve));
}

child.stdout.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, end).toString())[1]);
    if (buffer.length < end + 4 + length) return;
    const message = JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString('utf8'));
    buffer = buffer.subarray(end + 4 + length);
    if (message.id !== undefined && message.method) {
      // A request from the server: the settings it asks for, null for anything else.
      const result =
        message.method === 'workspace/configuration'
          ? message.params.items.map((item) => (item.section ? settings[item.section] ?? null : settings))
          : null;
      send({ id: message.id, result });
    } else if (message.id !== undefined && pending.has(message.id)) {
      pending.get(message.id)(message.result);
      pending.delete(message.id);
    }
  }
});
child.on('exit', (code) => {
  console.error(`the server exited (${code})`);
  process.exit(2);
});
setTimeout(() => {
  console.error('no answer in 60 s');
  process.exit(3);
}, 60000).unref();

(async () => {
  await request('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities: {
      workspace: { configuration: true },
      textDocument: { completion: { completionItem: { snippetSupport: true } } },
    },
  });
  send({ method: 'initialized', params: {} });
  send({ method: 'workspace/didChangeConfiguration', params: { settings } });
  send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'yaml', version: 1, text } } });
  const result = await request('textDocument/completion', {
    textDocument: { uri },
    position: { line: Number(line), character: Number(character) },
  });
  const items = Array.isArray(result) ? result : (result?.items ?? []);
  const shown = items.map((i) => ({ label: i.label, insertText: i.insertText ?? i.textEdit?.newText ?? null }));
  process.stdout.write(JSON.stringify(shown) + '\n');
  child.removeAllListeners('exit');
  child.kill();
  process.exit(0);
})();
