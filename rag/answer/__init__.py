"""A question to a cited answer: retrieve, select evidence, prompt, generate, extract, ground."""
