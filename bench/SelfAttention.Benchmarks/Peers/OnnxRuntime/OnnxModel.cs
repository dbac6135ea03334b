namespace SelfAttention.Benchmarks.Peers.OnnxRuntime;

/// <summary>A float tensor of fixed dimensions at a graph's edge.</summary>
/// <param name="Name">The value's name, as bound at run time.</param>
/// <param name="Dimensions">Its dimensions, outermost first.</param>
internal sealed record OnnxTensor(string Name, long[] Dimensions);

/// <summary>An int or float attribute of a node (the only kinds the attention nodes need).</summary>
/// <param name="Name">The attribute's name.</param>
/// <param name="Int">Its value when it is an int.</param>
/// <param name="Float">Its value when it is a float.</param>
internal sealed record OnnxAttribute(string Name, long? Int = null, float? Float = null)
{
    /// <summary>An int attribute.</summary>
    public static OnnxAttribute Of(string name, long value) => new(name, Int: value);

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Of(string name, float value) => new(name, Float: value);
}

/// <summary>
/// Serialises an ONNX model of one node: <c>ModelProto</c> with its opset imports and a <c>GraphProto</c> holding the
/// node and the typed inputs and outputs. Field numbers are those of onnx/onnx.proto (IR version 11, ONNX 1.18 and later);
/// only the fields written here are listed.
/// </summary>
internal static class OnnxModel
{
    // ModelProto
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelGraph = 7, ModelOpsetImport = 8;

    // OperatorSetIdProto
    private const int OpsetDomain = 1, OpsetVersion = 2;

    // GraphProto
    private const int GraphNode = 1, GraphName = 2, GraphInput = 11, GraphOutput = 12;

    // NodeProto
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5, NodeDomain = 7;

    // AttributeProto, and its AttributeType values
    private const int AttributeName = 1, AttributeF = 2, AttributeI = 3, AttributeType = 20;
    private const int AttributeTypeFloat = 1, AttributeTypeInt = 2;

    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension
    private const int ValueInfoName = 1, ValueInfoType = 2;
    private const int TypeTensorType = 1;
    private const int TensorElemType = 1, TensorShape = 2;
    private const int ShapeDim = 1;
    private const int DimValue = 1;

    // TensorProto.DataType.FLOAT
    private const int ElementFloat = 1;

    /// <summary>The IR version written: 11, the one that came with opset 23.</summary>
    public const long IrVersion = 11;

    /// <summary>A model whose graph is one node <c>outputs = opType(inputs)</c>.</summary>
    /// <param name="opType">The operator, e.g. <c>Attention</c>.</param>
    /// <param name="domain">Its domain: <c>""</c> for the standard operators, <c>com.microsoft</c> for the contrib ones.</param>
    /// <param name="opsets">Every (domain, version) the model imports; it must include <paramref name="domain"/>.</param>
    /// <param name="inputs">The graph inputs, in the node's input order.</param>
    /// <param name="outputs">The graph outputs, in the node's output order.</param>
    /// <param name="attributes">The node's attributes.</param>
    /// <returns>The serialised <c>ModelProto</c>, for <c>new InferenceSession(byte[], SessionOptions)</c>.</returns>
    public static byte[] SingleNode(string opType, string domain, IReadOnlyList<(string Domain, long Version)> opsets,
                                    IReadOnlyList<OnnxTensor> inputs, IReadOnlyList<OnnxTensor> outputs,
                                    IReadOnlyList<OnnxAttribute> attributes)
    {
        var model = new ProtobufWriter()
            .Int64(ModelIrVersion, IrVersion)
            .String(ModelProducerName, "SelfAttention.Benchmarks");
        foreach (var (opsetDomain, version) in opsets)
        {
            model.Message(ModelOpsetImport, o => o.String(OpsetDomain, opsetDomain).Int64(OpsetVersion, version));
        }

        model.Message(ModelGraph, graph =>
        {
            graph.Message(GraphNode, node =>
            {
                foreach (var input in inputs)
                {
                    node.String(NodeInput, input.Name);
                }

                foreach (var output in outputs)
                {
                    node.String(NodeOutput, output.Name);
                }

                node.String(NodeName, opType).String(NodeOpType, opType);
                foreach (var attribute in attributes)
                {
                    node.Message(NodeAttribute, a => WriteAttribute(a, attribute));
                }

                if (domain.Length > 0)
                {
                    node.String(NodeDomain, domain);
                }
            });
            graph.String(GraphName, opType);
            foreach (var input in inputs)
            {
                graph.Message(GraphInput, v => WriteValueInfo(v, input));
            }

            foreach (var output in outputs)
            {
                graph.Message(GraphOutput, v => WriteValueInfo(v, output));
            }
        });
        return model.ToArray();
    }

    private static void WriteAttribute(ProtobufWriter writer, OnnxAttribute attribute)
    {
        writer.String(AttributeName, attribute.Name);
        if (attribute.Int is { } i)
        {
            writer.Int64(AttributeI, i).Int64(AttributeType, AttributeTypeInt);
        }
        else if (attribute.Float is { } f)
        {
            writer.Float(AttributeF, f).Int64(AttributeType, AttributeTypeFloat);
        }
        else
        {
            throw new ArgumentException($"Attribute '{attribute.Name}' has no value.", nameof(attribute));
        }
    }

    // name, then type { tensor_type { elem_type FLOAT, shape { dim { dim_value } … } } }
    private static void WriteValueInfo(ProtobufWriter writer, OnnxTensor tensor) =>
        writer.String(ValueInfoName, tensor.Name)
              .Message(ValueInfoType, type => type.Message(TypeTensorType, t =>
              {
                  t.Int64(TensorElemType, ElementFloat);
                  t.Message(TensorShape, shape =>
                  {
                      foreach (long dimension in tensor.Dimensions)
                      {
                          shape.Message(ShapeDim, d => d.Int64(DimValue, dimension));
                      }
                  });
              }));
}
