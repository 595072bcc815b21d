"""Small cross-cutting pieces every room imports: user errors and the CLI guard, atomic writes, offline settings."""
