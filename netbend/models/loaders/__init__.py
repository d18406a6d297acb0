"""One adapter per checkpoint format: rosinality .pt, NVlabs .pkl, netbend .safetensors."""
