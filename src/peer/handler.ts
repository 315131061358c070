// The peer's side of the chaincode stream (Fabric's core/chaincode/handler.go, pruned to what a stand-in needs):
// handshake, transactions, and an in-memory world state. Independent of who dialled whom, so the same
// code serves a chaincode that dials in (launch mode, src/peer/listen.ts) and one the peer dials (service mode).
//
// API (stable; used by run's tests and by simulate):
//   servePeerSession(stream, { expectedChaincodeId?, creator?, mspid? }) -> PeerSession
//     stream: a gRPC duplex of protos.ChaincodeMessage, either side (ServerDuplexStream from
//       ChaincodeSupport.Register, or ClientDuplexStream from Chaincode.Connect).
//   session.registered  resolves with { chaincodeId } once the chaincode sent REGISTER and the peer side
//                       answered REGISTERED then READY; rejects if the stream ends first or the ID is wrong.
//   session.invoke(fn, args, { channel, txId }) sends a TRANSACTION (ChaincodeInput args = [fn, ...args],
//                       with a SignedProposal whose creator is an X.509 identity, as fabric-contract-api needs)
//                       and resolves with the chaincode's Response. An ERROR message resolves with status 500.
//                       Rejects only when the stream closes before the answer.
//   session.state       the world state (public data, one namespace). Writes of a transaction are applied
//                       only when it completes with status < 400, and reads never see the same
//                       transaction's writes, as on a real peer.
//   session.privateState private data by collection name, with the same rules (GET_PRIVATE_DATA_HASH
//                       answers the SHA-256 of the value); invoke's `transient` fills the proposal's
//                       transient map, which private-data chaincode reads its inputs from.
//   session.close()     ends the stream; session.closed resolves once it is gone.
import { createHash, randomBytes } from 'node:crypto';
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { createCA, issue } from './pki.js';

const T = peer.ChaincodeMessage.Type;
type MsgType = (typeof T)[keyof typeof T];

export interface InvokeResult { status: number; message: string; payload: Buffer }

export interface PeerSession {
  /** Resolves with the chaincode's REGISTER (after the peer side sent REGISTERED then READY). */
  registered: Promise<{ chaincodeId: string }>;
  invoke(fn: string, args: string[], o?: InvokeOptions): Promise<InvokeResult>;
  /** The in-memory world state serving GET_STATE, PUT_STATE, DEL_STATE, GET_STATE_BY_RANGE (+ QUERY_STATE_NEXT/CLOSE). */
  state: Map<string, Buffer>;
  /** Private data: collection name -> that collection's state. */
  privateState: Map<string, Map<string, Buffer>>;
  close(): void;
  closed: Promise<void>;
}

export interface InvokeOptions {
  channel?: string;
  txId?: string;
  /** The proposal's transient map (private-data inputs that stay off the ledger). */
  transient?: Record<string, Buffer | string>;
}

export interface Creator {
  mspid: string;
  /** The client's X.509 certificate, PEM: what fabric-contract-api's ClientIdentity parses. */
  certPem: string;
}

export interface SessionOptions {
  /** REGISTER with another name is refused with an ERROR message, as the peer refuses an unknown ID. */
  expectedChaincodeId?: string;
  /** The identity that "signed" the proposals; default: a throwaway certificate for mspid. */
  creator?: Creator;
  /** MSP ID of the default creator; default Org1MSP. */
  mspid?: string;
}

/** A gRPC bidi stream of ChaincodeMessage, from either side of the connection. */
export interface ChaincodeStream {
  write(m: peer.ChaincodeMessage): boolean;
  end(): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Only the dialling side has it. */
  cancel?(): void;
}

/** The peer answers range queries in pages (ledger.state.totalQueryLimit is 100000; pages keep messages small). */
const PAGE = 100;

/** A transaction in flight: its writes by collection ('' = public state), applied if it succeeds. */
interface Pending { resolve: (r: InvokeResult) => void; reject: (e: Error) => void; writes: Map<string, Map<string, Buffer | null>> }

function message(type: MsgType, txid: string, channel: string, payload?: Uint8Array): peer.ChaincodeMessage {
  const m = new peer.ChaincodeMessage();
  m.setType(type);
  m.setTxid(txid);
  m.setChannelId(channel);
  if (payload) m.setPayload(payload);
  return m;
}

function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function defaultCreator(mspid: string): Promise<Creator> {
  const ca = await createCA(`${mspid} client CA`);
  const { certPem } = await issue(ca, { commonName: 'User1', usage: 'client' });
  return { mspid, certPem };
}

/**
 * A google.protobuf.Timestamp for the channel header (fabric-shim's getTxTimestamp reads it). The
 * Timestamp class is not exported by fabric-protos, so one is decoded from a ChaincodeMessage whose
 * only field is its timestamp (field 2): seconds and nanos as varints.
 */
function timestamp(ms: number): NonNullable<ReturnType<peer.ChaincodeMessage['getTimestamp']>> {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    for (; n > 127; n = Math.floor(n / 128)) out.push((n % 128) | 128);
    out.push(n);
    return out;
  };
  const ts = [0x08, ...varint(Math.floor(ms / 1000)), 0x10, ...varint((ms % 1000) * 1e6)];
  return peer.ChaincodeMessage.deserializeBinary(Uint8Array.from([0x12, ts.length, ...ts])).getTimestamp()!;
}

function signedProposal(chaincodeId: string, channel: string, txId: string, input: peer.ChaincodeInput, creator: Creator, transient: InvokeOptions['transient'] = {}): peer.SignedProposal {
  const ch = new common.ChannelHeader();
  ch.setType(common.HeaderType.ENDORSER_TRANSACTION);
  ch.setChannelId(channel);
  ch.setTxId(txId);
  ch.setTimestamp(timestamp(Date.now()));
  const ext = new peer.ChaincodeHeaderExtension();
  const id = new peer.ChaincodeID();
  id.setName(chaincodeId);
  ext.setChaincodeId(id);
  ch.setExtension$(ext.serializeBinary());
  const identity = new msp.SerializedIdentity();
  identity.setMspid(creator.mspid);
  identity.setIdBytes(Buffer.from(creator.certPem));
  const sh = new common.SignatureHeader();
  sh.setCreator(identity.serializeBinary());
  sh.setNonce(randomBytes(24));
  const header = new common.Header();
  header.setChannelHeader(ch.serializeBinary());
  header.setSignatureHeader(sh.serializeBinary());
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(id);
  spec.setInput(input);
  const cis = new peer.ChaincodeInvocationSpec();
  cis.setChaincodeSpec(spec);
  const ccpp = new peer.ChaincodeProposalPayload();
  ccpp.setInput(cis.serializeBinary());
  for (const [k, v] of Object.entries(transient)) ccpp.getTransientmapMap().set(k, Buffer.from(v));
  const proposal = new peer.Proposal();
  proposal.setHeader(header.serializeBinary());
  proposal.setPayload(ccpp.serializeBinary());
  const sp = new peer.SignedProposal();
  sp.setProposalBytes(proposal.serializeBinary());
  // The chaincode never checks the signature (the peer did before simulating); it is left empty.
  return sp;
}

export function servePeerSession(stream: ChaincodeStream, o: SessionOptions = {}): PeerSession {
  const state = new Map<string, Buffer>();
  const privateState = new Map<string, Map<string, Buffer>>();
  const stateOf = (collection: string, create = false): Map<string, Buffer> => {
    if (!collection) return state;
    let c = privateState.get(collection);
    if (!c) {
      c = new Map();
      if (create) privateState.set(collection, c);
    }
    return c;
  };
  const write = (tx: Pending, collection: string, key: string, value: Buffer | null): void => {
    let w = tx.writes.get(collection);
    if (!w) tx.writes.set(collection, (w = new Map()));
    w.set(key, value);
  };
  const pending = new Map<string, Pending>();
  const iterators = new Map<string, { keys: string[]; values: Buffer[] }>();
  let chaincodeId = '';
  let ended = false;
  let creator: Promise<Creator> | undefined = o.creator ? Promise.resolve(o.creator) : undefined;

  let onRegistered!: (v: { chaincodeId: string }) => void;
  let onRegisterFailed!: (e: Error) => void;
  const registered = new Promise<{ chaincodeId: string }>((res, rej) => { onRegistered = res; onRegisterFailed = rej; });
  registered.catch(() => undefined); // callers that never await it must not see an unhandled rejection
  let onClosed!: () => void;
  const closed = new Promise<void>((res) => { onClosed = res; });

  const send = (m: peer.ChaincodeMessage): void => {
    if (!ended) stream.write(m);
  };

  const finish = (why: string): void => {
    if (ended) return;
    ended = true;
    onRegisterFailed(new Error(`chaincode stream closed before REGISTER (${why})`));
    for (const [key, p] of pending) p.reject(new Error(`chaincode stream closed before transaction ${key} completed (${why})`));
    pending.clear();
    onClosed();
  };

  const respond = (m: peer.ChaincodeMessage, payload?: Uint8Array): void => {
    send(message(T.RESPONSE, m.getTxid(), m.getChannelId(), payload ?? new Uint8Array()));
  };
  const fail = (m: peer.ChaincodeMessage, why: string): void => {
    send(message(T.ERROR, m.getTxid(), m.getChannelId(), Buffer.from(why)));
  };

  const queryPage = (id: string): peer.QueryResponse => {
    const it = iterators.get(id)!;
    const r = new peer.QueryResponse();
    const keys = it.keys.splice(0, PAGE);
    const values = it.values.splice(0, PAGE);
    r.setResultsList(keys.map((key, i) => {
      const kv = new ledger.queryresult.KV();
      kv.setNamespace(chaincodeId);
      kv.setKey(key);
      kv.setValue(values[i]!);
      const qb = new peer.QueryResultBytes();
      qb.setResultbytes(kv.serializeBinary());
      return qb;
    }));
    r.setHasMore(it.keys.length > 0);
    r.setId(id);
    if (it.keys.length === 0) iterators.delete(id);
    return r;
  };

  /** A state request during a transaction: GET_STATE, PUT_STATE and friends. */
  const serveStateRequest = (m: peer.ChaincodeMessage, tx: Pending): void => {
    const payload = m.getPayload_asU8();
    switch (m.getType()) {
      case T.GET_STATE: {
        const req = peer.GetState.deserializeBinary(payload);
        return respond(m, stateOf(req.getCollection()).get(req.getKey()) ?? new Uint8Array());
      }
      case T.GET_PRIVATE_DATA_HASH: {
        const req = peer.GetState.deserializeBinary(payload);
        const value = stateOf(req.getCollection()).get(req.getKey());
        return respond(m, value ? createHash('sha256').update(value).digest() : new Uint8Array());
      }
      case T.PUT_STATE: {
        const req = peer.PutState.deserializeBinary(payload);
        write(tx, req.getCollection(), req.getKey(), Buffer.from(req.getValue_asU8()));
        return respond(m);
      }
      case T.DEL_STATE: {
        const req = peer.DelState.deserializeBinary(payload);
        write(tx, req.getCollection(), req.getKey(), null);
        return respond(m);
      }
      case T.PURGE_PRIVATE_DATA: {
        const req = peer.PurgePrivateState.deserializeBinary(payload);
        write(tx, req.getCollection(), req.getKey(), null);
        return respond(m);
      }
      case T.GET_STATE_BY_RANGE: {
        const req = peer.GetStateByRange.deserializeBinary(payload);
        const from = stateOf(req.getCollection());
        const start = req.getStartkey();
        const end = req.getEndkey();
        const keys = [...from.keys()]
          .filter((k) => compareKeys(k, start) >= 0 && (end === '' || compareKeys(k, end) < 0))
          .sort(compareKeys);
        const id = randomBytes(8).toString('hex');
        iterators.set(id, { keys, values: keys.map((k) => from.get(k)!) });
        return respond(m, queryPage(id).serializeBinary());
      }
      case T.QUERY_STATE_NEXT: {
        const id = peer.QueryStateNext.deserializeBinary(payload).getId();
        if (!iterators.has(id)) return fail(m, `query iterator ${id} not found`);
        return respond(m, queryPage(id).serializeBinary());
      }
      case T.QUERY_STATE_CLOSE: {
        iterators.delete(peer.QueryStateClose.deserializeBinary(payload).getId());
        const r = new peer.QueryResponse();
        r.setHasMore(false);
        return respond(m, r.serializeBinary());
      }
      case T.GET_STATE_METADATA:
        return respond(m, new peer.StateMetadataResult().serializeBinary());
      case T.PUT_STATE_METADATA:
        return respond(m);
      default:
        return fail(m, `message type ${m.getType()} is not supported by the extbuilder peer stand-in`);
    }
  };

  stream.on('data', (m: peer.ChaincodeMessage) => {
    const type = m.getType();
    if (type === T.KEEPALIVE) return;
    if (!chaincodeId) {
      if (type !== T.REGISTER) {
        fail(m, `expected REGISTER, got message type ${type}`);
        return;
      }
      const name = peer.ChaincodeID.deserializeBinary(m.getPayload_asU8()).getName();
      if (o.expectedChaincodeId !== undefined && name !== o.expectedChaincodeId) {
        fail(m, `chaincode ${name} is not the one launched (${o.expectedChaincodeId})`);
        onRegisterFailed(new Error(`chaincode registered as ${JSON.stringify(name)}, expected ${JSON.stringify(o.expectedChaincodeId)}`));
        stream.end();
        return;
      }
      chaincodeId = name;
      send(message(T.REGISTERED, '', ''));
      send(message(T.READY, '', ''));
      onRegistered({ chaincodeId });
      return;
    }
    const key = `${m.getChannelId()}/${m.getTxid()}`;
    const tx = pending.get(key);
    if (!tx) {
      fail(m, `no transaction ${key} is in progress`);
      return;
    }
    if (type === T.COMPLETED || type === T.ERROR) {
      pending.delete(key);
      if (type === T.ERROR) {
        tx.resolve({ status: 500, message: Buffer.from(m.getPayload_asU8()).toString(), payload: Buffer.alloc(0) });
        return;
      }
      const r = peer.Response.deserializeBinary(m.getPayload_asU8());
      if (r.getStatus() < 400) {
        for (const [collection, w] of tx.writes) {
          const target = stateOf(collection, true);
          for (const [k, v] of w) {
            if (v === null) target.delete(k);
            else target.set(k, v);
          }
        }
      }
      tx.resolve({ status: r.getStatus(), message: r.getMessage(), payload: Buffer.from(r.getPayload_asU8()) });
      return;
    }
    serveStateRequest(m, tx);
  });
  stream.on('end', () => { finish('end'); stream.end(); });
  stream.on('close', () => finish('close'));
  stream.on('error', (e: Error) => finish(e.message));

  return {
    registered,
    state,
    privateState,
    closed,
    async invoke(fn, args, io = {}) {
      const { chaincodeId: name } = await registered;
      const channel = io.channel ?? 'mychannel';
      const txId = io.txId ?? randomBytes(32).toString('hex');
      const key = `${channel}/${txId}`;
      if (pending.has(key)) throw new Error(`transaction ${key} is already in progress`);
      creator ??= defaultCreator(o.mspid ?? 'Org1MSP');
      const input = new peer.ChaincodeInput();
      input.setArgsList([fn, ...args].map((a) => Buffer.from(a)));
      const m = message(T.TRANSACTION, txId, channel, input.serializeBinary());
      m.setProposal(signedProposal(name, channel, txId, input, await creator, io.transient));
      if (ended) throw new Error('chaincode stream is closed');
      return new Promise<InvokeResult>((resolve, reject) => {
        pending.set(key, { resolve, reject, writes: new Map() });
        send(m);
      });
    },
    close() {
      if (ended) return;
      stream.end();
      stream.cancel?.();
    },
  };
}
