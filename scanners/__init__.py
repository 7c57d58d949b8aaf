"""Barcode scanners (serial, camera, wedge) and GS1 parsing. Filled by the barcode-scanning issue."""
