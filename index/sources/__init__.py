"""Where papers come from: one module per input kind and a registry of them."""
