"""ERP sync: pushes the journal to the central systems and pulls their changes. Filled by the ERP-sync issue."""
