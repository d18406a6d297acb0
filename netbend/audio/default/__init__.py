"""The built-in audio model: model.safetensors (see TRAINING.md for how it was made)."""
