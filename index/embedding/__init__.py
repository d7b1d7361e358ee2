"""The embedding model: the Embedder protocol and its runtimes (onnxruntime, TorchScript, sentence-transformers, a fake), model export, the vector cache."""
