"""Text and names written into DuckDB SQL."""


def sql_text(value: str) -> str:
    """A text literal."""
    return "'" + value.replace("'", "''") + "'"


def quoted(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'
