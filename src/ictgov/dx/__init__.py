"""dx: digital-transformation assessment of enterprises (DBI) and provinces (DTI)."""
