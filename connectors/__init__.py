"""Machine connectivity (OPC UA, Modbus, MQTT): tags become signals become commands. Filled by the machine-connectivity issue."""
