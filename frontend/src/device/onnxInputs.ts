// Our exporter gives the instance-norm statistics inputs (norm_stats_override, norm_stats_mix) default
// values, so they are graph inputs that are also initializers: onnxruntime treats them as overridable
// initializers. onnxruntime-web only accepts feeds named in session.inputNames, which leaves those out, so
// tiles could not share statistics. Dropping their initializers from the ModelProto (protobuf, edited at
// the wire level: no ONNX library needed) makes them ordinary inputs; the runner then always feeds them,
// with mix 0 (the defaults' effect) when the image's own statistics are wanted.

const GRAPH = 7; // ModelProto.graph
const INITIALIZER = 5; // GraphProto.initializer
const TENSOR_DIMS = 1; // TensorProto.dims
const TENSOR_NAME = 8; // TensorProto.name
const METADATA = 14; // ModelProto.metadata_props (StringStringEntryProto: key 1, value 2)

interface Field {
  number: number;
  wireType: number;
  /** The whole field, key included. */
  start: number;
  end: number;
  /** A length-delimited field's payload. */
  payloadStart: number;
}

function readVarint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (at >= bytes.length) throw new Error("truncated varint");
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at];
    scale *= 128;
  }
}

function* fields(bytes: Uint8Array, start = 0, end = bytes.length): Generator<Field> {
  let at = start;
  while (at < end) {
    const fieldStart = at;
    const [key, afterKey] = readVarint(bytes, at);
    const wireType = key & 7;
    let payloadStart = afterKey;
    if (wireType === 0) at = readVarint(bytes, afterKey)[1];
    else if (wireType === 1) at = afterKey + 8;
    else if (wireType === 5) at = afterKey + 4;
    else if (wireType === 2) {
      const [length, afterLength] = readVarint(bytes, afterKey);
      payloadStart = afterLength;
      at = afterLength + length;
    } else throw new Error(`unsupported protobuf wire type ${wireType}`);
    if (at > end) throw new Error("truncated protobuf field");
    yield { number: Math.floor(key / 8), wireType, start: fieldStart, end: at, payloadStart };
  }
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

function tensorFacts(bytes: Uint8Array, field: Field): { name: string; dims: number[] } {
  let name = "";
  const dims: number[] = [];
  for (const inner of fields(bytes, field.payloadStart, field.end)) {
    if (inner.number === TENSOR_NAME && inner.wireType === 2) {
      name = new TextDecoder().decode(bytes.subarray(inner.payloadStart, inner.end));
    } else if (inner.number === TENSOR_DIMS && inner.wireType === 0) {
      dims.push(readVarint(bytes, readVarint(bytes, inner.start)[1])[0]);
    } else if (inner.number === TENSOR_DIMS && inner.wireType === 2) {
      for (let at = inner.payloadStart; at < inner.end; ) {
        const [dim, next] = readVarint(bytes, at);
        dims.push(dim);
        at = next;
      }
    }
  }
  return { name, dims };
}

/** The model's metadata_props (the exporter's card fields; `styles` for a multi-style file). */
export function metadataOf(model: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const decoder = new TextDecoder();
  for (const field of fields(model)) {
    if (field.number !== METADATA || field.wireType !== 2) continue;
    let key = "";
    let value = "";
    for (const inner of fields(model, field.payloadStart, field.end)) {
      const text = decoder.decode(model.subarray(inner.payloadStart, inner.end));
      if (inner.number === 1) key = text;
      else if (inner.number === 2) value = text;
    }
    out.set(key, value);
  }
  return out;
}

/** The model without the initializers of `names` (so those become plain inputs), and their shapes. */
export function exposeInputs(model: Uint8Array, names: readonly string[]): { model: Uint8Array; dims: Map<string, number[]> } {
  const dims = new Map<string, number[]>();
  const top = [...fields(model)];
  const graph = top.find((field) => field.number === GRAPH && field.wireType === 2);
  if (!graph) throw new Error("not an ONNX model (no graph)");
  const kept: Field[] = [];
  for (const field of fields(model, graph.payloadStart, graph.end)) {
    if (field.number === INITIALIZER && field.wireType === 2) {
      const facts = tensorFacts(model, field);
      if (names.includes(facts.name)) {
        dims.set(facts.name, facts.dims);
        continue;
      }
    }
    kept.push(field);
  }
  if (dims.size === 0) return { model, dims };
  const graphLength = kept.reduce((sum, field) => sum + field.end - field.start, 0);
  const graphHeader = [...varint(GRAPH * 8 + 2), ...varint(graphLength)];
  const size = top.reduce((sum, f) => sum + (f === graph ? graphHeader.length + graphLength : f.end - f.start), 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const field of top) {
    if (field !== graph) {
      out.set(model.subarray(field.start, field.end), at);
      at += field.end - field.start;
      continue;
    }
    out.set(graphHeader, at);
    at += graphHeader.length;
    for (const part of kept) {
      out.set(model.subarray(part.start, part.end), at);
      at += part.end - part.start;
    }
  }
  return { model: out, dims };
}
