"""What does this prompt need: inputs, text, language, features, the rule scorer,
the model artifact, the classifier and the optional L2 step."""
