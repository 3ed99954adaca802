"""Post-show statistics: the edition report (report.py) from the edition's frames (data.py), its visitor and
exhibitor figures, the comparison with the previous edition and the attendance forecast."""
