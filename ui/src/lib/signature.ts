// One column of an MLmodel signature (inputs or outputs), as MLflow writes it:
// {"type": "double", "name": "x", "required": true} for a column, or
// {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}} for a tensor.
export interface SignatureColumn {
  name?: string;
  type?: string;
  "tensor-spec"?: { dtype?: string; shape?: number[] };
  required?: boolean;
}

/** The type of a signature column as shown: "double", or "tensor float64 (-1, 4)". */
export function signatureColumnType(column: SignatureColumn): string {
  const spec = column["tensor-spec"];
  if (column.type !== "tensor" && spec === undefined) return column.type ?? "";
  const dtype = spec?.dtype ?? "";
  const shape = spec?.shape ? `(${spec.shape.join(", ")})` : "";
  return ["tensor", dtype, shape].filter((part) => part !== "").join(" ");
}
