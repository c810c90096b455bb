"""nbchat: streaming LLM chat for Jupyter notebooks."""
