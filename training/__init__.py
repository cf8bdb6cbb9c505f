"""Training code for tierrouter: data loaders, feature fitting and model export."""
