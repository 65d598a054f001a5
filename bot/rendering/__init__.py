"""Turning answers into what people see: Discord embeds and console text. Plain functions, no I/O."""
