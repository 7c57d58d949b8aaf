"""Protocol-true stand-ins for machines, scanners, cameras and the central ERP. Filled as their issues land."""
