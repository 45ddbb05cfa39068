"""CSV and XLSX import and export of customers, orders, interactions and feedback.

Reading (encoding, delimiter, sheets) is in tables.py, column names in headers.py, cell
values in values.py; importer.py plans and writes an import in one transaction, scoped by
the Actor; exporter.py writes what the Actor may see.
"""
