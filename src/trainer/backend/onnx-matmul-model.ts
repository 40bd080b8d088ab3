// The serialized ONNX model of one batched matrix product, for onnxruntime to run (native-matmul.ts):
//
//   Y[b, m, n] = op(A)[b, m, k] · op(B)[b, k, n]      op(X) = X or Xᵀ (its last two axes)
//
// as a single com.microsoft FusedMatMul node (onnxruntime's contrib op: MatMul with transpose flags
// and numpy batch broadcasting), every dimension symbolic, so one model serves every shape.
//
// The bytes are written by hand: the graph is fixed and tiny, and a protobuf library would need
// onnx.proto's schema beside it for these few fields. Field numbers are onnx.proto's (IR version 8):
//   ModelProto     1 ir_version · 7 graph · 8 opset_import
//   OperatorSetId  1 domain · 2 version
//   GraphProto     1 node · 2 name · 11 input · 12 output
//   NodeProto      1 input · 2 output · 3 name · 4 op_type · 5 attribute · 7 domain
//   AttributeProto 1 name · 2 f · 3 i · 20 type (1 FLOAT, 2 INT)
//   ValueInfoProto 1 name · 2 type;  TypeProto 1 tensor_type;  TypeProto.Tensor 1 elem_type (1 FLOAT) · 2 shape
//   TensorShapeProto 1 dim;  Dimension 2 dim_param

type Bytes = number[]

function varint(value: number): Bytes {
  const out: Bytes = []
  let v = value
  do {
    const low = v % 128
    v = Math.floor(v / 128)
    out.push(v > 0 ? low | 0x80 : low)
  } while (v > 0)
  return out
}

const VARINT = 0
const LENGTH_DELIMITED = 2
const FIXED32 = 5
const tag = (field: number, wire: number): Bytes => varint(field * 8 + wire)
const int = (field: number, value: number): Bytes => [...tag(field, VARINT), ...varint(value)]
const bytes = (field: number, content: Bytes): Bytes => [...tag(field, LENGTH_DELIMITED), ...varint(content.length), ...content]
const text = (field: number, s: string): Bytes => bytes(field, [...Buffer.from(s, 'utf8')])
const message = (field: number, ...parts: Bytes[]): Bytes => bytes(field, parts.flat())
function float32(field: number, value: number): Bytes {
  const b = Buffer.alloc(4)
  b.writeFloatLE(value)
  return [...tag(field, FIXED32), ...b]
}

const ATTRIBUTE_FLOAT = 1
const ATTRIBUTE_INT = 2
const ELEM_FLOAT = 1

/** A rank-3 float tensor input or output whose dimensions are all named (symbolic). */
function tensorValue(field: number, name: string): Bytes {
  const dims = [0, 1, 2].map((i) => message(1, text(2, `${name}${i}`)))
  return message(field, text(1, name), message(2, message(1, int(1, ELEM_FLOAT), message(2, ...dims))))
}

/** Input names A and B, output Y; see the header. */
export function fusedMatMulModel(transposeA: boolean, transposeB: boolean): Uint8Array {
  const node = message(1,
    text(1, 'A'), text(1, 'B'), text(2, 'Y'), text(3, 'matmul'), text(4, 'FusedMatMul'),
    message(5, text(1, 'alpha'), float32(2, 1), int(20, ATTRIBUTE_FLOAT)),
    message(5, text(1, 'transA'), int(3, transposeA ? 1 : 0), int(20, ATTRIBUTE_INT)),
    message(5, text(1, 'transB'), int(3, transposeB ? 1 : 0), int(20, ATTRIBUTE_INT)),
    text(7, 'com.microsoft'))
  const graph = message(7, node, text(2, 'batch_matmul'), tensorValue(11, 'A'), tensorValue(11, 'B'), tensorValue(12, 'Y'))
  const opsets = [message(8, text(1, ''), int(2, 17)), message(8, text(1, 'com.microsoft'), int(2, 1))]
  return Uint8Array.from([...int(1, 8), ...opsets.flat(), ...graph])
}
