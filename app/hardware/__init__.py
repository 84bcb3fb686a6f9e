"""Scanners, scales and printers as the application uses them: the barcode resolver lives
in app.barcodes; here are the stations' device configuration, the print queue and the
device commands."""
