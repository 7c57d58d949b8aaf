BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0001');
CREATE TABLE bins (
	bin VARCHAR(200) NOT NULL, 
	zone VARCHAR(200) NOT NULL, 
	capacity VARCHAR(40), 
	allowed_items JSON NOT NULL, 
	CONSTRAINT pk_bins PRIMARY KEY (bin)
);
INSERT INTO "bins" VALUES('A-01-2','storage','10000','[]');
INSERT INTO "bins" VALUES('A-02-3','storage','100','["GREASE-LT2"]');
INSERT INTO "bins" VALUES('REC-01','receiving','5000','[]');
INSERT INTO "bins" VALUES('LS-10','line-side','200','[]');
INSERT INTO "bins" VALUES('LS-20','line-side','2000','[]');
INSERT INTO "bins" VALUES('FG-01','finished-goods',NULL,'[]');
INSERT INTO "bins" VALUES('A-02-4','storage','500','[]');
INSERT INTO "bins" VALUES('A-01-1','storage','200','["HOUSING-20"]');
INSERT INTO "bins" VALUES('QA-01','quarantine',NULL,'[]');
CREATE TABLE bom_lines (
	work_order VARCHAR(200) NOT NULL, 
	line INTEGER NOT NULL, 
	item VARCHAR(200) NOT NULL, 
	item_revision VARCHAR(200) NOT NULL, 
	quantity_per VARCHAR(40) NOT NULL, 
	consumed VARCHAR(40) NOT NULL, 
	CONSTRAINT pk_bom_lines PRIMARY KEY (work_order, line)
);
INSERT INTO "bom_lines" VALUES('WO-1002',2,'IMPELLER-7','D','1','0');
INSERT INTO "bom_lines" VALUES('WO-1003',2,'IMPELLER-7','D','1','0');
INSERT INTO "bom_lines" VALUES('WO-1001',3,'MOTOR-075','A','1','5');
INSERT INTO "bom_lines" VALUES('WO-1003',5,'BOLT-M8X25','A','8','0');
INSERT INTO "bom_lines" VALUES('WO-1002',1,'HOUSING-20','B','1','0');
INSERT INTO "bom_lines" VALUES('WO-1001',6,'BOLT-M8X25','A','8','0');
INSERT INTO "bom_lines" VALUES('WO-1001',2,'IMPELLER-7','D','1','0');
INSERT INTO "bom_lines" VALUES('WO-1002',4,'SEAL-KIT-3','B','1','0');
INSERT INTO "bom_lines" VALUES('WO-1003',4,'SEAL-KIT-3','B','1','0');
INSERT INTO "bom_lines" VALUES('WO-1003',1,'HOUSING-20','B','1','0');
INSERT INTO "bom_lines" VALUES('WO-1001',5,'GREASE-LT2','A','0.05','0');
INSERT INTO "bom_lines" VALUES('WO-1003',3,'MOTOR-150','A','1','0');
INSERT INTO "bom_lines" VALUES('WO-1002',3,'MOTOR-075','A','1','0');
INSERT INTO "bom_lines" VALUES('WO-1001',4,'SEAL-KIT-3','B','1','0');
INSERT INTO "bom_lines" VALUES('WO-1001',1,'HOUSING-20','B','1','5');
INSERT INTO "bom_lines" VALUES('WO-1002',6,'BOLT-M8X25','A','8','0');
INSERT INTO "bom_lines" VALUES('WO-1002',5,'GREASE-LT2','A','0.05','0');
CREATE TABLE characteristics (
	"plan" VARCHAR(200) NOT NULL, 
	characteristic VARCHAR(200) NOT NULL, 
	kind VARCHAR(200) NOT NULL, 
	nominal VARCHAR(40), 
	lsl VARCHAR(40), 
	usl VARCHAR(40), 
	unit VARCHAR(200) NOT NULL, 
	CONSTRAINT pk_characteristics PRIMARY KEY ("plan", characteristic)
);
INSERT INTO "characteristics" VALUES('IP-HOUSING-20-IN','casting_visual','attribute',NULL,NULL,NULL,'');
INSERT INTO "characteristics" VALUES('IP-PUMP-100-FT','test_pressure','numeric','10.0','9.5','10.5','bar');
INSERT INTO "characteristics" VALUES('IP-HOUSING-20-IN','bore_diameter','numeric','62.0','61.985','62.015','mm');
INSERT INTO "characteristics" VALUES('IP-PUMP-100-FT','nameplate_ok','attribute',NULL,NULL,NULL,'');
INSERT INTO "characteristics" VALUES('IP-PUMP-100-FT','leak_rate','numeric','0',NULL,'0.5','mbar l/s');
CREATE TABLE clock_ons (
	operator VARCHAR(200) NOT NULL, 
	work_order VARCHAR(200) NOT NULL, 
	operation INTEGER NOT NULL, 
	since DATETIME NOT NULL, 
	CONSTRAINT pk_clock_ons PRIMARY KEY (operator, work_order, operation)
);
CREATE TABLE command_log (
	idempotency_key VARCHAR(250) NOT NULL, 
	command VARCHAR(64) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	actor VARCHAR(100) NOT NULL, 
	outcome TEXT NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	CONSTRAINT pk_command_log PRIMARY KEY (idempotency_key)
);
INSERT INTO "command_log" VALUES('seed:item:PUMP-100','DefineItem','53c0afe799632cddba7e4571f1f5bc18','seed','{"events":[{"seq":1,"type":"ItemDefined","subject":"item:PUMP-100"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:item:PUMP-150','DefineItem','57c36a9a347f9ea67dac76cb842fb8bc','seed','{"events":[{"seq":2,"type":"ItemDefined","subject":"item:PUMP-150"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:item:HOUSING-20','DefineItem','e4a478240f25add9e11a6486c788a03a','seed','{"events":[{"seq":3,"type":"ItemDefined","subject":"item:HOUSING-20"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:item:IMPELLER-7','DefineItem','aba767afeebc84cc1b3fc883717ebc3f','seed','{"events":[{"seq":4,"type":"ItemDefined","subject":"item:IMPELLER-7"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:item:MOTOR-075','DefineItem','0b5efed6806de2ad32b2bf0ec5970eb3','seed','{"events":[{"seq":5,"type":"ItemDefined","subject":"item:MOTOR-075"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:item:MOTOR-150','DefineItem','b2c95eca3c30543b637f9e102aa11c35','seed','{"events":[{"seq":6,"type":"ItemDefined","subject":"item:MOTOR-150"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:item:SEAL-KIT-3','DefineItem','9043d71c8e34a57b5d84289ce26df291','seed','{"events":[{"seq":7,"type":"ItemDefined","subject":"item:SEAL-KIT-3"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:item:GREASE-LT2','DefineItem','884b96b4c1293301b35bd95531e0a92e','seed','{"events":[{"seq":8,"type":"ItemDefined","subject":"item:GREASE-LT2"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:item:BOLT-M8X25','DefineItem','c7e8d3cff806fc99a4c13eb188f770c0','seed','{"events":[{"seq":9,"type":"ItemDefined","subject":"item:BOLT-M8X25"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:bin:REC-01','DefineBin','275232fdf537a24095e0f7cebfc8faca','seed','{"events":[{"seq":10,"type":"BinDefined","subject":"bin:REC-01"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:bin:A-01-1','DefineBin','199378366f0e995d4fa58a5e8e3a5920','seed','{"events":[{"seq":11,"type":"BinDefined","subject":"bin:A-01-1"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:bin:A-01-2','DefineBin','b9d5f1f4d2ed747e8020bfa99cf32dea','seed','{"events":[{"seq":12,"type":"BinDefined","subject":"bin:A-01-2"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:bin:A-02-3','DefineBin','81dc4d4fd0f4b2c8f8a676bbf28752b9','seed','{"events":[{"seq":13,"type":"BinDefined","subject":"bin:A-02-3"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:bin:A-02-4','DefineBin','4e5de50399d7b5779f34d18a8bdb02f4','seed','{"events":[{"seq":14,"type":"BinDefined","subject":"bin:A-02-4"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:bin:LS-10','DefineBin','d393a988877ca6ad11e2c1f2f5b38b57','seed','{"events":[{"seq":15,"type":"BinDefined","subject":"bin:LS-10"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:bin:LS-20','DefineBin','751e9a50ae405394a30aad1bd9793d94','seed','{"events":[{"seq":16,"type":"BinDefined","subject":"bin:LS-20"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:bin:QA-01','DefineBin','f30adf5f66e4d42ff098a84fb05db3e8','seed','{"events":[{"seq":17,"type":"BinDefined","subject":"bin:QA-01"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:bin:FG-01','DefineBin','85c5d5519625775f96a5a16abe76fd77','seed','{"events":[{"seq":18,"type":"BinDefined","subject":"bin:FG-01"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:equipment:PRESS-10','DefineEquipment','01274918e865d4175ccf43c14a33d516','seed','{"events":[{"seq":19,"type":"EquipmentDefined","subject":"equipment:PRESS-10"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:equipment:SCREWDRIVER-20','DefineEquipment','2b6035fd269da101816344cbd9a273f7','seed','{"events":[{"seq":20,"type":"EquipmentDefined","subject":"equipment:SCREWDRIVER-20"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:equipment:TESTRIG-30','DefineEquipment','8b8206a492939ae48bf6ef54d386d4d7','seed','{"events":[{"seq":21,"type":"EquipmentDefined","subject":"equipment:TESTRIG-30"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:work-order:WO-1001','ReleaseWorkOrder','4ceeeded8ac4d169b9d94f0b7c488667','seed','{"events":[{"seq":22,"type":"WorkOrderReleased","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:work-order:WO-1002','ReleaseWorkOrder','d47eca777ee861ee4228590db7be0ae6','seed','{"events":[{"seq":23,"type":"WorkOrderReleased","subject":"work_order:WO-1002"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:work-order:WO-1003','ReleaseWorkOrder','73a602068549ee1f599ec6e2ce6ab8a0','seed','{"events":[{"seq":24,"type":"WorkOrderReleased","subject":"work_order:WO-1003"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:dispatch-list:WS-10','SetDispatchList','43d3f481a31c086cdd9af8d8d388879a','seed','{"events":[{"seq":25,"type":"DispatchListSet","subject":"workstation:WS-10"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:dispatch-list:WS-20','SetDispatchList','b1d71bf876107c27603a86c2d31aff4c','seed','{"events":[{"seq":26,"type":"DispatchListSet","subject":"workstation:WS-20"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:dispatch-list:WS-30','SetDispatchList','26b857acc6bf5c763941eb70e69a45e0','seed','{"events":[{"seq":27,"type":"DispatchListSet","subject":"workstation:WS-30"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:inspection-plan:IP-PUMP-100-FT','DefineInspectionPlan','7bab746db5745baea244cab0e475e6fd','seed','{"events":[{"seq":28,"type":"InspectionPlanDefined","subject":"inspection_plan:IP-PUMP-100-FT"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:inspection-plan:IP-HOUSING-20-IN','DefineInspectionPlan','a1abbe56a3adbba99ef2e56dcb580c19','seed','{"events":[{"seq":29,"type":"InspectionPlanDefined","subject":"inspection_plan:IP-HOUSING-20-IN"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:lot:H-2231','ReceiveLot','b52e7624873454dfb5d5dfc42c92bbe9','seed','{"events":[{"seq":30,"type":"LotReceived","subject":"lot:H-2231"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:lot:H-2232','ReceiveLot','6c2304e41bc6e27d5c761ce68c1939ff','seed','{"events":[{"seq":31,"type":"LotReceived","subject":"lot:H-2232"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:lot:IMP-5510','ReceiveLot','48e25c6798aa7dcc47847e6c04f16b5a','seed','{"events":[{"seq":32,"type":"LotReceived","subject":"lot:IMP-5510"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:lot:IMP-4420','ReceiveLot','252591ec34d97c435a4ac5a9d1d238fc','seed','{"events":[{"seq":33,"type":"LotReceived","subject":"lot:IMP-4420"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:lot:MOT-8812','ReceiveLot','ff11be0affe035f36368a51b54f0f5b7','seed','{"events":[{"seq":34,"type":"LotReceived","subject":"lot:MOT-8812"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:lot:SK-3301','ReceiveLot','7917ebc31267ae14f22820e9f95adf7d','seed','{"events":[{"seq":35,"type":"LotReceived","subject":"lot:SK-3301"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:lot:BLT-0907','ReceiveLot','46a4d7269d1e718c67088979c6d9c064','seed','{"events":[{"seq":36,"type":"LotReceived","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:lot:L123','ReceiveLot','41cc6c975c54d7e520c888f0e746ad55','seed','{"events":[{"seq":37,"type":"LotReceived","subject":"lot:L123"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:lot:L118','ReceiveLot','e1e8356efee9418e01332438a8d4d556','seed','{"events":[{"seq":38,"type":"LotReceived","subject":"lot:L118"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('seed:lot:R-7781','ReceiveLot','dca7d35b61e576a7224101f2b77fdb3e','seed','{"events":[{"seq":39,"type":"LotReceived","subject":"lot:R-7781"}]}','2026-11-26 05:15:46.331186');
INSERT INTO "command_log" VALUES('rev0001-1','StartOperation','ba8bcb22086e46ee06dcd3ce3f4950a3','anna','{"events":[{"seq":40,"type":"OperationStarted","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:46.865096');
INSERT INTO "command_log" VALUES('rev0001-2','ClockOnLabour','2a8a88ff1957a694cd49754b838bfcd2','anna','{"events":[{"seq":41,"type":"LabourClockedOn","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:46.918685');
INSERT INTO "command_log" VALUES('rev0001-3','SetMachineState','80c041144322d95235835ec158e8ac72','admin','{"events":[{"seq":42,"type":"MachineStateChanged","subject":"equipment:PRESS-10"}]}','2026-11-26 05:15:46.968710');
INSERT INTO "command_log" VALUES('rev0001-4','IssueToWorkOrder','2119a8b4efef5b02995af1154ce48944','anna','{"events":[{"seq":43,"type":"StockMoved","subject":"lot:H-2232"}]}','2026-11-26 05:15:47.017103');
INSERT INTO "command_log" VALUES('rev0001-5','IssueToWorkOrder','79c2f71045c935fbab889f88003153a6','anna','{"events":[{"seq":44,"type":"StockMoved","subject":"lot:MOT-8812"}]}','2026-11-26 05:15:47.067845');
INSERT INTO "command_log" VALUES('rev0001-6','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":45,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:47.117357');
INSERT INTO "command_log" VALUES('rev0001-7','ReportProduction','3a6c542d23a28f93471dc42a91317c49','anna','{"events":[{"seq":46,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:47.179541');
INSERT INTO "command_log" VALUES('rev0001-8','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":47,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:47.227724');
INSERT INTO "command_log" VALUES('rev0001-9','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":48,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:47.271718');
INSERT INTO "command_log" VALUES('rev0001-10','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":49,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:47.315721');
INSERT INTO "command_log" VALUES('rev0001-11','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":50,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:47.363176');
INSERT INTO "command_log" VALUES('rev0001-12','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":51,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:47.411584');
INSERT INTO "command_log" VALUES('rev0001-13','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":52,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:47.459360');
INSERT INTO "command_log" VALUES('rev0001-14','SetMachineState','d746e9c9ff67c5105632d586a3728a8f','admin','{"events":[{"seq":53,"type":"MachineStateChanged","subject":"equipment:PRESS-10"}]}','2026-11-26 05:15:47.507107');
INSERT INTO "command_log" VALUES('rev0001-15','SetMachineState','80c041144322d95235835ec158e8ac72','admin','{"events":[{"seq":54,"type":"MachineStateChanged","subject":"equipment:PRESS-10"}]}','2026-11-26 05:15:47.554724');
INSERT INTO "command_log" VALUES('rev0001-16','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":55,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:47.607547');
INSERT INTO "command_log" VALUES('rev0001-17','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":56,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:47.660080');
INSERT INTO "command_log" VALUES('rev0001-18','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":57,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:47.707898');
INSERT INTO "command_log" VALUES('rev0001-19','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":58,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:47.775865');
INSERT INTO "command_log" VALUES('rev0001-20','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":59,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:47.823070');
INSERT INTO "command_log" VALUES('rev0001-21','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":60,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:47.871151');
INSERT INTO "command_log" VALUES('rev0001-22','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":61,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:47.917281');
INSERT INTO "command_log" VALUES('rev0001-23','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":62,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:47.963660');
INSERT INTO "command_log" VALUES('rev0001-24','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":63,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:48.007600');
INSERT INTO "command_log" VALUES('rev0001-25','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":64,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:48.055681');
INSERT INTO "command_log" VALUES('rev0001-26','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":65,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:48.100245');
INSERT INTO "command_log" VALUES('rev0001-27','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":66,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:48.143665');
INSERT INTO "command_log" VALUES('rev0001-28','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":67,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:48.191301');
INSERT INTO "command_log" VALUES('rev0001-29','ReportProduction','3a6c542d23a28f93471dc42a91317c49','anna','{"events":[{"seq":68,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:48.239498');
INSERT INTO "command_log" VALUES('rev0001-30','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":69,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:48.291294');
INSERT INTO "command_log" VALUES('rev0001-31','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":70,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:48.375598');
INSERT INTO "command_log" VALUES('rev0001-32','SetMachineState','d746e9c9ff67c5105632d586a3728a8f','admin','{"events":[{"seq":71,"type":"MachineStateChanged","subject":"equipment:PRESS-10"}]}','2026-11-26 05:15:48.428123');
INSERT INTO "command_log" VALUES('rev0001-33','SetMachineState','80c041144322d95235835ec158e8ac72','admin','{"events":[{"seq":72,"type":"MachineStateChanged","subject":"equipment:PRESS-10"}]}','2026-11-26 05:15:48.479287');
INSERT INTO "command_log" VALUES('rev0001-34','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":73,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:48.527781');
INSERT INTO "command_log" VALUES('rev0001-35','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":74,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:48.575795');
INSERT INTO "command_log" VALUES('rev0001-36','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":75,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:48.623816');
INSERT INTO "command_log" VALUES('rev0001-37','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":76,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:48.671761');
INSERT INTO "command_log" VALUES('rev0001-38','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":77,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:48.723796');
INSERT INTO "command_log" VALUES('rev0001-39','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":78,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:48.768348');
INSERT INTO "command_log" VALUES('rev0001-40','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":79,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:48.811337');
INSERT INTO "command_log" VALUES('rev0001-41','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":80,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:48.863727');
INSERT INTO "command_log" VALUES('rev0001-42','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":81,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:48.911801');
INSERT INTO "command_log" VALUES('rev0001-43','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":82,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:48.960176');
INSERT INTO "command_log" VALUES('rev0001-44','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":83,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:49.031498');
INSERT INTO "command_log" VALUES('rev0001-45','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":84,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:49.074850');
INSERT INTO "command_log" VALUES('rev0001-46','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":85,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:49.097066');
INSERT INTO "command_log" VALUES('rev0001-47','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":86,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:49.139694');
INSERT INTO "command_log" VALUES('rev0001-48','MoveStock','e22fd400b727c75d57af74c621e0632e','wim','{"events":[{"seq":87,"type":"StockMoved","subject":"lot:BLT-0907"}]}','2026-11-26 05:15:49.179751');
INSERT INTO "command_log" VALUES('rev0001-49','ReportProduction','de030322c87741c21d99d2ff18ebebab','anna','{"events":[{"seq":88,"type":"ProductionReported","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:49.227781');
INSERT INTO "command_log" VALUES('rev0001-50','SetMachineState','d746e9c9ff67c5105632d586a3728a8f','admin','{"events":[{"seq":89,"type":"MachineStateChanged","subject":"equipment:PRESS-10"}]}','2026-11-26 05:15:49.268627');
INSERT INTO "command_log" VALUES('rev0001-51','SetMachineState','80c041144322d95235835ec158e8ac72','admin','{"events":[{"seq":90,"type":"MachineStateChanged","subject":"equipment:PRESS-10"}]}','2026-11-26 05:15:49.327551');
INSERT INTO "command_log" VALUES('rev0001-52','PauseOperation','12f7de51a6c38b111fd78b5ec02e2849','anna','{"events":[{"seq":91,"type":"OperationPaused","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:49.378692');
INSERT INTO "command_log" VALUES('rev0001-53','ResumeOperation','1a52dfe35d60261aae8866df52173f69','anna','{"events":[{"seq":92,"type":"OperationResumed","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:49.428187');
INSERT INTO "command_log" VALUES('rev0001-54','ReceiveLot','2e987428926b5acf8334d201eca3edd2','wim','{"events":[{"seq":93,"type":"LotReceived","subject":"lot:H-9001"}]}','2026-11-26 05:15:49.470708');
INSERT INTO "command_log" VALUES('rev0001-55','HoldLot','01fa635d28b3f1a6021dc1c146704d2b','wim','{"events":[{"seq":94,"type":"LotStatusChanged","subject":"lot:H-9001"}]}','2026-11-26 05:15:49.521492');
INSERT INTO "command_log" VALUES('rev0001-56','RaiseNonconformance','e24a63a1c05e79beefd4dc7ae1a368e7','anna','{"events":[{"seq":95,"type":"NonconformanceRaised","subject":"ncr:NCR-1"},{"seq":96,"type":"LotStatusChanged","subject":"lot:H-2231"}]}','2026-11-26 05:15:49.558440');
INSERT INTO "command_log" VALUES('rev0001-57','ScrapStock','dc5ec1c3045af81f060a48d1bf816561','wim','{"events":[{"seq":97,"type":"StockMoved","subject":"lot:SK-3301"}]}','2026-11-26 05:15:49.601362');
INSERT INTO "command_log" VALUES('rev0001-58','ClockOffLabour','a34decba0fdfd3360d454cfc0901921a','anna','{"events":[{"seq":98,"type":"LabourClockedOff","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:49.625861');
INSERT INTO "command_log" VALUES('rev0001-59','CompleteOperation','63022d4b80de83bc9072a74da64f4a50','anna','{"events":[{"seq":99,"type":"OperationCompleted","subject":"work_order:WO-1001"}]}','2026-11-26 05:15:49.672019');
CREATE TABLE dispatch (
	workstation VARCHAR(200) NOT NULL, 
	position INTEGER NOT NULL, 
	work_order VARCHAR(200) NOT NULL, 
	operation INTEGER NOT NULL, 
	CONSTRAINT pk_dispatch PRIMARY KEY (workstation, position)
);
INSERT INTO "dispatch" VALUES('WS-10',3,'WO-1003',10);
INSERT INTO "dispatch" VALUES('WS-20',1,'WO-1001',20);
INSERT INTO "dispatch" VALUES('WS-30',3,'WO-1003',30);
INSERT INTO "dispatch" VALUES('WS-30',2,'WO-1002',30);
INSERT INTO "dispatch" VALUES('WS-10',2,'WO-1002',10);
INSERT INTO "dispatch" VALUES('WS-30',1,'WO-1001',30);
INSERT INTO "dispatch" VALUES('WS-20',3,'WO-1003',20);
INSERT INTO "dispatch" VALUES('WS-10',1,'WO-1001',10);
INSERT INTO "dispatch" VALUES('WS-20',2,'WO-1002',20);
CREATE TABLE equipment (
	equipment VARCHAR(200) NOT NULL, 
	workstation VARCHAR(200) NOT NULL, 
	description VARCHAR(200) NOT NULL, 
	CONSTRAINT pk_equipment PRIMARY KEY (equipment)
);
INSERT INTO "equipment" VALUES('SCREWDRIVER-20','WS-20','Torque-controlled screwdriver (OPC UA)');
INSERT INTO "equipment" VALUES('TESTRIG-30','WS-30','Pressure and leak test rig (OPC UA)');
INSERT INTO "equipment" VALUES('PRESS-10','WS-10','Servo press for impeller fitting (Modbus TCP)');
CREATE TABLE inspection_plans (
	"plan" VARCHAR(200) NOT NULL, 
	description VARCHAR(200) NOT NULL, 
	item VARCHAR(200), 
	operation INTEGER, 
	hold_on_fail BOOLEAN NOT NULL, 
	CONSTRAINT pk_inspection_plans PRIMARY KEY ("plan")
);
INSERT INTO "inspection_plans" VALUES('IP-HOUSING-20-IN','Incoming inspection pump housing','HOUSING-20',NULL,1);
INSERT INTO "inspection_plans" VALUES('IP-PUMP-100-FT','Final test PUMP-100','PUMP-100',30,1);
CREATE TABLE inspection_results (
	seq INTEGER NOT NULL, 
	inspection VARCHAR(200) NOT NULL, 
	"plan" VARCHAR(200) NOT NULL, 
	lot VARCHAR(200), 
	work_order VARCHAR(200), 
	operation INTEGER, 
	passed BOOLEAN NOT NULL, 
	results JSON NOT NULL, 
	actor VARCHAR(100) NOT NULL, 
	at DATETIME NOT NULL, 
	CONSTRAINT pk_inspection_results PRIMARY KEY (seq), 
	CONSTRAINT uq_inspection_results_inspection UNIQUE (inspection)
);
CREATE TABLE items (
	item VARCHAR(200) NOT NULL, 
	description VARCHAR(200) NOT NULL, 
	unit VARCHAR(200) NOT NULL, 
	revision VARCHAR(200) NOT NULL, 
	lot_controlled BOOLEAN NOT NULL, 
	CONSTRAINT pk_items PRIMARY KEY (item)
);
INSERT INTO "items" VALUES('HOUSING-20','Pump housing, cast iron GG25','pcs','B',1);
INSERT INTO "items" VALUES('PUMP-150','Centrifugal pump 1.5 kW','pcs','A',1);
INSERT INTO "items" VALUES('MOTOR-075','Motor 0.75 kW 230/400 V IE3','pcs','A',1);
INSERT INTO "items" VALUES('GREASE-LT2','Bearing grease LT2, 400 g cartridge','pcs','A',1);
INSERT INTO "items" VALUES('IMPELLER-7','Impeller 120 mm, bronze','pcs','D',1);
INSERT INTO "items" VALUES('MOTOR-150','Motor 1.5 kW 230/400 V IE3','pcs','A',1);
INSERT INTO "items" VALUES('SEAL-KIT-3','Mechanical seal kit, EPDM','pcs','B',1);
INSERT INTO "items" VALUES('BOLT-M8X25','Hex bolt M8x25 A2-70','pcs','A',1);
INSERT INTO "items" VALUES('PUMP-100','Centrifugal pump 0.75 kW','pcs','C',1);
CREATE TABLE journal (
	seq INTEGER NOT NULL, 
	event_id VARCHAR(36) NOT NULL, 
	node_id VARCHAR(100) NOT NULL, 
	type VARCHAR(64) NOT NULL, 
	subject VARCHAR(250) NOT NULL, 
	payload TEXT NOT NULL, 
	actor VARCHAR(100) NOT NULL, 
	source_device VARCHAR(100), 
	occurred_at DATETIME NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	origin VARCHAR(8) NOT NULL, 
	idempotency_key VARCHAR(250) NOT NULL, 
	key_part INTEGER NOT NULL, 
	CONSTRAINT pk_journal PRIMARY KEY (seq), 
	CONSTRAINT uq_journal_event_id UNIQUE (event_id), 
	CONSTRAINT uq_journal_idempotency_key UNIQUE (idempotency_key, key_part)
);
INSERT INTO "journal" VALUES(1,'01a21647-fd1b-7000-8b80-137a0f2204cc','demo-eindhoven-assembly-1','ItemDefined','item:PUMP-100','{"item":"PUMP-100","description":"Centrifugal pump 0.75 kW","unit":"pcs","revision":"C","lot_controlled":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:item:PUMP-100',0);
INSERT INTO "journal" VALUES(2,'01a21647-fd1b-7001-a7f6-467bc23126c2','demo-eindhoven-assembly-1','ItemDefined','item:PUMP-150','{"item":"PUMP-150","description":"Centrifugal pump 1.5 kW","unit":"pcs","revision":"A","lot_controlled":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:item:PUMP-150',0);
INSERT INTO "journal" VALUES(3,'01a21647-fd1b-7002-acb1-88e67607e0be','demo-eindhoven-assembly-1','ItemDefined','item:HOUSING-20','{"item":"HOUSING-20","description":"Pump housing, cast iron GG25","unit":"pcs","revision":"B","lot_controlled":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:item:HOUSING-20',0);
INSERT INTO "journal" VALUES(4,'01a21647-fd1b-7003-84db-8d54ab9fdf6c','demo-eindhoven-assembly-1','ItemDefined','item:IMPELLER-7','{"item":"IMPELLER-7","description":"Impeller 120 mm, bronze","unit":"pcs","revision":"D","lot_controlled":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:item:IMPELLER-7',0);
INSERT INTO "journal" VALUES(5,'01a21647-fd1b-7004-8d4f-ea189232ea45','demo-eindhoven-assembly-1','ItemDefined','item:MOTOR-075','{"item":"MOTOR-075","description":"Motor 0.75 kW 230/400 V IE3","unit":"pcs","revision":"A","lot_controlled":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:item:MOTOR-075',0);
INSERT INTO "journal" VALUES(6,'01a21647-fd1b-7005-b3f1-747dad45a401','demo-eindhoven-assembly-1','ItemDefined','item:MOTOR-150','{"item":"MOTOR-150","description":"Motor 1.5 kW 230/400 V IE3","unit":"pcs","revision":"A","lot_controlled":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:item:MOTOR-150',0);
INSERT INTO "journal" VALUES(7,'01a21647-fd1b-7006-81d3-deff6ed2314b','demo-eindhoven-assembly-1','ItemDefined','item:SEAL-KIT-3','{"item":"SEAL-KIT-3","description":"Mechanical seal kit, EPDM","unit":"pcs","revision":"B","lot_controlled":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:item:SEAL-KIT-3',0);
INSERT INTO "journal" VALUES(8,'01a21647-fd1b-7007-9c84-20a67db26bf9','demo-eindhoven-assembly-1','ItemDefined','item:GREASE-LT2','{"item":"GREASE-LT2","description":"Bearing grease LT2, 400 g cartridge","unit":"pcs","revision":"A","lot_controlled":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:item:GREASE-LT2',0);
INSERT INTO "journal" VALUES(9,'01a21647-fd1b-7008-bfb2-de7e6c7e10dc','demo-eindhoven-assembly-1','ItemDefined','item:BOLT-M8X25','{"item":"BOLT-M8X25","description":"Hex bolt M8x25 A2-70","unit":"pcs","revision":"A","lot_controlled":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:item:BOLT-M8X25',0);
INSERT INTO "journal" VALUES(10,'01a21647-fd1b-7009-8caf-10af55a5aae3','demo-eindhoven-assembly-1','BinDefined','bin:REC-01','{"bin":"REC-01","zone":"receiving","capacity":"5000","allowed_items":[]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:bin:REC-01',0);
INSERT INTO "journal" VALUES(11,'01a21647-fd1b-700a-9266-589f81fd007c','demo-eindhoven-assembly-1','BinDefined','bin:A-01-1','{"bin":"A-01-1","zone":"storage","capacity":"200","allowed_items":["HOUSING-20"]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:bin:A-01-1',0);
INSERT INTO "journal" VALUES(12,'01a21647-fd1b-700b-93c9-889c8d074a81','demo-eindhoven-assembly-1','BinDefined','bin:A-01-2','{"bin":"A-01-2","zone":"storage","capacity":"10000","allowed_items":[]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:bin:A-01-2',0);
INSERT INTO "journal" VALUES(13,'01a21647-fd1b-700c-a88c-28cddc62c1d2','demo-eindhoven-assembly-1','BinDefined','bin:A-02-3','{"bin":"A-02-3","zone":"storage","capacity":"100","allowed_items":["GREASE-LT2"]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:bin:A-02-3',0);
INSERT INTO "journal" VALUES(14,'01a21647-fd1b-700d-ba7e-86ff125b459c','demo-eindhoven-assembly-1','BinDefined','bin:A-02-4','{"bin":"A-02-4","zone":"storage","capacity":"500","allowed_items":[]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:bin:A-02-4',0);
INSERT INTO "journal" VALUES(15,'01a21647-fd1b-700e-913e-bcbecf6acca4','demo-eindhoven-assembly-1','BinDefined','bin:LS-10','{"bin":"LS-10","zone":"line-side","capacity":"200","allowed_items":[]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:bin:LS-10',0);
INSERT INTO "journal" VALUES(16,'01a21647-fd1b-700f-b34f-d170ba51215c','demo-eindhoven-assembly-1','BinDefined','bin:LS-20','{"bin":"LS-20","zone":"line-side","capacity":"2000","allowed_items":[]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:bin:LS-20',0);
INSERT INTO "journal" VALUES(17,'01a21647-fd1b-7010-8b11-929378f24f55','demo-eindhoven-assembly-1','BinDefined','bin:QA-01','{"bin":"QA-01","zone":"quarantine","capacity":null,"allowed_items":[]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:bin:QA-01',0);
INSERT INTO "journal" VALUES(18,'01a21647-fd1b-7011-854d-458b37e09b84','demo-eindhoven-assembly-1','BinDefined','bin:FG-01','{"bin":"FG-01","zone":"finished-goods","capacity":null,"allowed_items":[]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:bin:FG-01',0);
INSERT INTO "journal" VALUES(19,'01a21647-fd1b-7012-b3dd-f2d0ba919f3e','demo-eindhoven-assembly-1','EquipmentDefined','equipment:PRESS-10','{"equipment":"PRESS-10","workstation":"WS-10","description":"Servo press for impeller fitting (Modbus TCP)"}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:equipment:PRESS-10',0);
INSERT INTO "journal" VALUES(20,'01a21647-fd1b-7013-a358-2465c037ac0d','demo-eindhoven-assembly-1','EquipmentDefined','equipment:SCREWDRIVER-20','{"equipment":"SCREWDRIVER-20","workstation":"WS-20","description":"Torque-controlled screwdriver (OPC UA)"}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:equipment:SCREWDRIVER-20',0);
INSERT INTO "journal" VALUES(21,'01a21647-fd1b-7014-b131-66a32a5f2ea2','demo-eindhoven-assembly-1','EquipmentDefined','equipment:TESTRIG-30','{"equipment":"TESTRIG-30","workstation":"WS-30","description":"Pressure and leak test rig (OPC UA)"}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:equipment:TESTRIG-30',0);
INSERT INTO "journal" VALUES(22,'01a21647-fd1b-7015-9eae-10f8f86ade8b','demo-eindhoven-assembly-1','WorkOrderReleased','work_order:WO-1001','{"work_order":"WO-1001","item":"PUMP-100","item_revision":"C","bom_revision":"7","quantity":"20","operations":[{"operation":10,"description":"Pre-assemble motor and impeller","workstation":"WS-10","standard_minutes":"6"},{"operation":20,"description":"Final assembly (housing, seal, grease, bolts)","workstation":"WS-20","standard_minutes":"9"},{"operation":30,"description":"Pressure test and pack","workstation":"WS-30","standard_minutes":"4"}],"bom":[{"line":1,"item":"HOUSING-20","item_revision":"B","quantity_per":"1"},{"line":2,"item":"IMPELLER-7","item_revision":"D","quantity_per":"1"},{"line":3,"item":"MOTOR-075","item_revision":"A","quantity_per":"1"},{"line":4,"item":"SEAL-KIT-3","item_revision":"B","quantity_per":"1"},{"line":5,"item":"GREASE-LT2","item_revision":"A","quantity_per":"0.05"},{"line":6,"item":"BOLT-M8X25","item_revision":"A","quantity_per":"8"}],"overproduction_tolerance_pct":"5","due":"2026-12-04","customer_order":"SO-88120"}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:work-order:WO-1001',0);
INSERT INTO "journal" VALUES(23,'01a21647-fd1b-7016-a6dd-284d608b98ce','demo-eindhoven-assembly-1','WorkOrderReleased','work_order:WO-1002','{"work_order":"WO-1002","item":"PUMP-100","item_revision":"C","bom_revision":"7","quantity":"50","operations":[{"operation":10,"description":"Pre-assemble motor and impeller","workstation":"WS-10","standard_minutes":"6"},{"operation":20,"description":"Final assembly (housing, seal, grease, bolts)","workstation":"WS-20","standard_minutes":"9"},{"operation":30,"description":"Pressure test and pack","workstation":"WS-30","standard_minutes":"4"}],"bom":[{"line":1,"item":"HOUSING-20","item_revision":"B","quantity_per":"1"},{"line":2,"item":"IMPELLER-7","item_revision":"D","quantity_per":"1"},{"line":3,"item":"MOTOR-075","item_revision":"A","quantity_per":"1"},{"line":4,"item":"SEAL-KIT-3","item_revision":"B","quantity_per":"1"},{"line":5,"item":"GREASE-LT2","item_revision":"A","quantity_per":"0.05"},{"line":6,"item":"BOLT-M8X25","item_revision":"A","quantity_per":"8"}],"overproduction_tolerance_pct":"2","due":"2026-12-11","customer_order":"SO-88141"}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:work-order:WO-1002',0);
INSERT INTO "journal" VALUES(24,'01a21647-fd1b-7017-8c51-c6766d307e04','demo-eindhoven-assembly-1','WorkOrderReleased','work_order:WO-1003','{"work_order":"WO-1003","item":"PUMP-150","item_revision":"A","bom_revision":"2","quantity":"10","operations":[{"operation":10,"description":"Pre-assemble motor and impeller","workstation":"WS-10","standard_minutes":"7"},{"operation":20,"description":"Final assembly","workstation":"WS-20","standard_minutes":"11"},{"operation":30,"description":"Pressure test and pack","workstation":"WS-30","standard_minutes":"5"}],"bom":[{"line":1,"item":"HOUSING-20","item_revision":"B","quantity_per":"1"},{"line":2,"item":"IMPELLER-7","item_revision":"D","quantity_per":"1"},{"line":3,"item":"MOTOR-150","item_revision":"A","quantity_per":"1"},{"line":4,"item":"SEAL-KIT-3","item_revision":"B","quantity_per":"1"},{"line":5,"item":"BOLT-M8X25","item_revision":"A","quantity_per":"8"}],"overproduction_tolerance_pct":"0","due":"2026-12-18","customer_order":null}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:work-order:WO-1003',0);
INSERT INTO "journal" VALUES(25,'01a21647-fd1b-7018-96e6-eaeca6066542','demo-eindhoven-assembly-1','DispatchListSet','workstation:WS-10','{"workstation":"WS-10","sequence":[{"work_order":"WO-1001","operation":10},{"work_order":"WO-1002","operation":10},{"work_order":"WO-1003","operation":10}]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:dispatch-list:WS-10',0);
INSERT INTO "journal" VALUES(26,'01a21647-fd1b-7019-979a-b5f655122351','demo-eindhoven-assembly-1','DispatchListSet','workstation:WS-20','{"workstation":"WS-20","sequence":[{"work_order":"WO-1001","operation":20},{"work_order":"WO-1002","operation":20},{"work_order":"WO-1003","operation":20}]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:dispatch-list:WS-20',0);
INSERT INTO "journal" VALUES(27,'01a21647-fd1b-701a-8fdf-3120472d1db3','demo-eindhoven-assembly-1','DispatchListSet','workstation:WS-30','{"workstation":"WS-30","sequence":[{"work_order":"WO-1001","operation":30},{"work_order":"WO-1002","operation":30},{"work_order":"WO-1003","operation":30}]}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:dispatch-list:WS-30',0);
INSERT INTO "journal" VALUES(28,'01a21647-fd1b-701b-a8e5-0f64f1e7e662','demo-eindhoven-assembly-1','InspectionPlanDefined','inspection_plan:IP-PUMP-100-FT','{"plan":"IP-PUMP-100-FT","description":"Final test PUMP-100","characteristics":[{"characteristic":"test_pressure","kind":"numeric","nominal":"10.0","lsl":"9.5","usl":"10.5","unit":"bar"},{"characteristic":"leak_rate","kind":"numeric","nominal":"0","lsl":null,"usl":"0.5","unit":"mbar l/s"},{"characteristic":"nameplate_ok","kind":"attribute","nominal":null,"lsl":null,"usl":null,"unit":""}],"item":"PUMP-100","operation":30,"hold_on_fail":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:inspection-plan:IP-PUMP-100-FT',0);
INSERT INTO "journal" VALUES(29,'01a21647-fd1b-701c-8d91-09ee7a8cbb90','demo-eindhoven-assembly-1','InspectionPlanDefined','inspection_plan:IP-HOUSING-20-IN','{"plan":"IP-HOUSING-20-IN","description":"Incoming inspection pump housing","characteristics":[{"characteristic":"bore_diameter","kind":"numeric","nominal":"62.0","lsl":"61.985","usl":"62.015","unit":"mm"},{"characteristic":"casting_visual","kind":"attribute","nominal":null,"lsl":null,"usl":null,"unit":""}],"item":"HOUSING-20","operation":null,"hold_on_fail":true}','seed',NULL,'2026-11-26 05:15:46.331186','2026-11-26 05:15:46.331186','erp','seed:inspection-plan:IP-HOUSING-20-IN',0);
INSERT INTO "journal" VALUES(30,'01a21647-fd1b-701d-9910-656eff3ee545','demo-eindhoven-assembly-1','LotReceived','lot:H-2231','{"lot":"H-2231","item":"HOUSING-20","item_revision":"B","quantity":"60","bin":"A-01-1","expiry":null,"supplier_lot":"GJ-55102","status":"available","at":"2026-10-20T00:00:00Z"}','seed',NULL,'2026-10-20 00:00:00.000000','2026-11-26 05:15:46.331186','erp','seed:lot:H-2231',0);
INSERT INTO "journal" VALUES(31,'01a21647-fd1b-701e-b8b3-09d30f186384','demo-eindhoven-assembly-1','LotReceived','lot:H-2232','{"lot":"H-2232","item":"HOUSING-20","item_revision":"B","quantity":"20","bin":"LS-20","expiry":null,"supplier_lot":"GJ-55102","status":"available","at":"2026-10-20T00:00:00Z"}','seed',NULL,'2026-10-20 00:00:00.000000','2026-11-26 05:15:46.331186','erp','seed:lot:H-2232',0);
INSERT INTO "journal" VALUES(32,'01a21647-fd1b-701f-a0dc-aaf311c32b46','demo-eindhoven-assembly-1','LotReceived','lot:IMP-5510','{"lot":"IMP-5510","item":"IMPELLER-7","item_revision":"D","quantity":"80","bin":"A-01-2","expiry":null,"supplier_lot":"BR-7731","status":"available","at":"2026-11-02T00:00:00Z"}','seed',NULL,'2026-11-02 00:00:00.000000','2026-11-26 05:15:46.331186','erp','seed:lot:IMP-5510',0);
INSERT INTO "journal" VALUES(33,'01a21647-fd1b-7020-898e-850f58622516','demo-eindhoven-assembly-1','LotReceived','lot:IMP-4420','{"lot":"IMP-4420","item":"IMPELLER-7","item_revision":"C","quantity":"15","bin":"A-01-2","expiry":null,"supplier_lot":null,"status":"available","at":"2026-05-12T00:00:00Z"}','seed',NULL,'2026-05-12 00:00:00.000000','2026-11-26 05:15:46.331186','erp','seed:lot:IMP-4420',0);
INSERT INTO "journal" VALUES(34,'01a21647-fd1b-7021-9a03-5db9d0661706','demo-eindhoven-assembly-1','LotReceived','lot:MOT-8812','{"lot":"MOT-8812","item":"MOTOR-075","item_revision":"A","quantity":"40","bin":"LS-10","expiry":null,"supplier_lot":"WEG-20261101","status":"available","at":"2026-11-05T00:00:00Z"}','seed',NULL,'2026-11-05 00:00:00.000000','2026-11-26 05:15:46.331186','erp','seed:lot:MOT-8812',0);
INSERT INTO "journal" VALUES(35,'01a21647-fd1b-7022-9c87-6ad3219f1c01','demo-eindhoven-assembly-1','LotReceived','lot:SK-3301','{"lot":"SK-3301","item":"SEAL-KIT-3","item_revision":"B","quantity":"100","bin":"A-02-4","expiry":"2029-12-31","supplier_lot":"EK-3301","status":"available","at":"2026-09-01T00:00:00Z"}','seed',NULL,'2026-09-01 00:00:00.000000','2026-11-26 05:15:46.331186','erp','seed:lot:SK-3301',0);
INSERT INTO "journal" VALUES(36,'01a21647-fd1b-7023-95cf-d406ce2d0b53','demo-eindhoven-assembly-1','LotReceived','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","item_revision":"A","quantity":"2000","bin":"A-01-2","expiry":null,"supplier_lot":null,"status":"available","at":"2026-09-07T00:00:00Z"}','seed',NULL,'2026-09-07 00:00:00.000000','2026-11-26 05:15:46.331186','erp','seed:lot:BLT-0907',0);
INSERT INTO "journal" VALUES(37,'01a21647-fd1b-7024-8f55-4d85fce6abb9','demo-eindhoven-assembly-1','LotReceived','lot:L123','{"lot":"L123","item":"GREASE-LT2","item_revision":"A","quantity":"12","bin":"LS-20","expiry":"2026-10-01","supplier_lot":"KL-23088","status":"available","at":"2026-04-02T00:00:00Z"}','seed',NULL,'2026-04-02 00:00:00.000000','2026-11-26 05:15:46.331186','erp','seed:lot:L123',0);
INSERT INTO "journal" VALUES(38,'01a21647-fd1b-7025-b709-2bc3acf5a0d8','demo-eindhoven-assembly-1','LotReceived','lot:L118','{"lot":"L118","item":"GREASE-LT2","item_revision":"A","quantity":"40","bin":"A-02-3","expiry":"2028-03-31","supplier_lot":"KL-24117","status":"available","at":"2026-09-15T00:00:00Z"}','seed',NULL,'2026-09-15 00:00:00.000000','2026-11-26 05:15:46.331186','erp','seed:lot:L118',0);
INSERT INTO "journal" VALUES(39,'01a21647-fd1b-7026-a7b3-ea0ffbf5e10b','demo-eindhoven-assembly-1','LotReceived','lot:R-7781','{"lot":"R-7781","item":"HOUSING-20","item_revision":"B","quantity":"30","bin":"REC-01","expiry":null,"supplier_lot":"GJ-55190","status":"quarantine","at":"2026-11-24T00:00:00Z"}','seed',NULL,'2026-11-24 00:00:00.000000','2026-11-26 05:15:46.331186','erp','seed:lot:R-7781',0);
INSERT INTO "journal" VALUES(40,'01a21647-ff31-7000-a507-32a18437f608','demo-eindhoven-assembly-1','OperationStarted','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"at":"2026-11-26T05:15:46.865096Z"}','anna',NULL,'2026-11-26 05:15:46.865096','2026-11-26 05:15:46.865096','edge','rev0001-1',0);
INSERT INTO "journal" VALUES(41,'01a21647-ff66-7000-89dd-d9549fb4eb82','demo-eindhoven-assembly-1','LabourClockedOn','work_order:WO-1001','{"operator":"anna","work_order":"WO-1001","operation":10,"at":"2026-11-26T05:15:46.918685Z"}','anna',NULL,'2026-11-26 05:15:46.918685','2026-11-26 05:15:46.918685','edge','rev0001-2',0);
INSERT INTO "journal" VALUES(42,'01a21647-ff98-7000-ada5-a172279b1c9f','demo-eindhoven-assembly-1','MachineStateChanged','equipment:PRESS-10','{"equipment":"PRESS-10","state":"running","reason":null,"since":"2026-11-26T05:15:46.968710Z","previous":null,"previous_since":null}','admin',NULL,'2026-11-26 05:15:46.968710','2026-11-26 05:15:46.968710','edge','rev0001-3',0);
INSERT INTO "journal" VALUES(43,'01a21647-ffc9-7000-9b24-dbfe0f3d00e8','demo-eindhoven-assembly-1','StockMoved','lot:H-2232','{"lot":"H-2232","item":"HOUSING-20","kind":"issue","from_bin":"LS-20","to_bin":null,"quantity":"5","lot_quantity_delta":"-5","work_order":"WO-1001","bom_line":1,"reason":null,"at":"2026-11-26T05:15:47.017103Z"}','anna',NULL,'2026-11-26 05:15:47.017103','2026-11-26 05:15:47.017103','edge','rev0001-4',0);
INSERT INTO "journal" VALUES(44,'01a21647-fffb-7000-82fc-fce1afdcac82','demo-eindhoven-assembly-1','StockMoved','lot:MOT-8812','{"lot":"MOT-8812","item":"MOTOR-075","kind":"issue","from_bin":"LS-10","to_bin":null,"quantity":"5","lot_quantity_delta":"-5","work_order":"WO-1001","bom_line":3,"reason":null,"at":"2026-11-26T05:15:47.067845Z"}','anna',NULL,'2026-11-26 05:15:47.067845','2026-11-26 05:15:47.067845','edge','rev0001-5',0);
INSERT INTO "journal" VALUES(45,'01a21648-002d-7000-96e8-f7f60e7a271e','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:47.117357Z"}','wim',NULL,'2026-11-26 05:15:47.117357','2026-11-26 05:15:47.117357','edge','rev0001-6',0);
INSERT INTO "journal" VALUES(46,'01a21648-006b-7000-a102-23087fa173c6','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"1","scrap_reason":"bent shaft","at":"2026-11-26T05:15:47.179541Z"}','anna',NULL,'2026-11-26 05:15:47.179541','2026-11-26 05:15:47.179541','edge','rev0001-7',0);
INSERT INTO "journal" VALUES(47,'01a21648-009b-7000-9bb0-82de4bb02761','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:47.227724Z"}','wim',NULL,'2026-11-26 05:15:47.227724','2026-11-26 05:15:47.227724','edge','rev0001-8',0);
INSERT INTO "journal" VALUES(48,'01a21648-00c7-7000-8783-5eba339c4aa8','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:47.271718Z"}','anna',NULL,'2026-11-26 05:15:47.271718','2026-11-26 05:15:47.271718','edge','rev0001-9',0);
INSERT INTO "journal" VALUES(49,'01a21648-00f3-7000-9cbc-fc56e6e5c12c','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:47.315721Z"}','wim',NULL,'2026-11-26 05:15:47.315721','2026-11-26 05:15:47.315721','edge','rev0001-10',0);
INSERT INTO "journal" VALUES(50,'01a21648-0123-7000-a048-fe609d8e3e1e','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:47.363176Z"}','anna',NULL,'2026-11-26 05:15:47.363176','2026-11-26 05:15:47.363176','edge','rev0001-11',0);
INSERT INTO "journal" VALUES(51,'01a21648-0153-7000-8e1a-fd99120cc6d6','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:47.411584Z"}','wim',NULL,'2026-11-26 05:15:47.411584','2026-11-26 05:15:47.411584','edge','rev0001-12',0);
INSERT INTO "journal" VALUES(52,'01a21648-0183-7000-b610-5a274abd0dbd','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:47.459360Z"}','anna',NULL,'2026-11-26 05:15:47.459360','2026-11-26 05:15:47.459360','edge','rev0001-13',0);
INSERT INTO "journal" VALUES(53,'01a21648-01b3-7000-9e8c-ea1b7543b8a7','demo-eindhoven-assembly-1','MachineStateChanged','equipment:PRESS-10','{"equipment":"PRESS-10","state":"down","reason":"jam","since":"2026-11-26T05:15:47.507107Z","previous":"running","previous_since":"2026-11-26T05:15:46.968710Z"}','admin',NULL,'2026-11-26 05:15:47.507107','2026-11-26 05:15:47.507107','edge','rev0001-14',0);
INSERT INTO "journal" VALUES(54,'01a21648-01e2-7000-925d-e0fffd85a229','demo-eindhoven-assembly-1','MachineStateChanged','equipment:PRESS-10','{"equipment":"PRESS-10","state":"running","reason":null,"since":"2026-11-26T05:15:47.554724Z","previous":"down","previous_since":"2026-11-26T05:15:47.507107Z"}','admin',NULL,'2026-11-26 05:15:47.554724','2026-11-26 05:15:47.554724','edge','rev0001-15',0);
INSERT INTO "journal" VALUES(55,'01a21648-0217-7000-ad1f-542e180c3fa9','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:47.607547Z"}','wim',NULL,'2026-11-26 05:15:47.607547','2026-11-26 05:15:47.607547','edge','rev0001-16',0);
INSERT INTO "journal" VALUES(56,'01a21648-024c-7000-bab3-28e4f66376e6','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:47.660080Z"}','anna',NULL,'2026-11-26 05:15:47.660080','2026-11-26 05:15:47.660080','edge','rev0001-17',0);
INSERT INTO "journal" VALUES(57,'01a21648-027b-7000-aa44-f742f165b851','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:47.707898Z"}','wim',NULL,'2026-11-26 05:15:47.707898','2026-11-26 05:15:47.707898','edge','rev0001-18',0);
INSERT INTO "journal" VALUES(58,'01a21648-02bf-7000-94bf-627099099b38','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:47.775865Z"}','anna',NULL,'2026-11-26 05:15:47.775865','2026-11-26 05:15:47.775865','edge','rev0001-19',0);
INSERT INTO "journal" VALUES(59,'01a21648-02ef-7000-a30a-fd9e9239dc41','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:47.823070Z"}','wim',NULL,'2026-11-26 05:15:47.823070','2026-11-26 05:15:47.823070','edge','rev0001-20',0);
INSERT INTO "journal" VALUES(60,'01a21648-031f-7000-a6bf-5f9c76578490','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:47.871151Z"}','anna',NULL,'2026-11-26 05:15:47.871151','2026-11-26 05:15:47.871151','edge','rev0001-21',0);
INSERT INTO "journal" VALUES(61,'01a21648-034d-7000-869d-30dfcd019ab2','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:47.917281Z"}','wim',NULL,'2026-11-26 05:15:47.917281','2026-11-26 05:15:47.917281','edge','rev0001-22',0);
INSERT INTO "journal" VALUES(62,'01a21648-037b-7000-91c5-3bf155df59e8','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:47.963660Z"}','anna',NULL,'2026-11-26 05:15:47.963660','2026-11-26 05:15:47.963660','edge','rev0001-23',0);
INSERT INTO "journal" VALUES(63,'01a21648-03a7-7000-a774-3db06ea2e26b','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:48.007600Z"}','wim',NULL,'2026-11-26 05:15:48.007600','2026-11-26 05:15:48.007600','edge','rev0001-24',0);
INSERT INTO "journal" VALUES(64,'01a21648-03d7-7000-bddb-b25da71bf16f','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:48.055681Z"}','anna',NULL,'2026-11-26 05:15:48.055681','2026-11-26 05:15:48.055681','edge','rev0001-25',0);
INSERT INTO "journal" VALUES(65,'01a21648-0404-7000-924a-54a6463e484d','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:48.100245Z"}','wim',NULL,'2026-11-26 05:15:48.100245','2026-11-26 05:15:48.100245','edge','rev0001-26',0);
INSERT INTO "journal" VALUES(66,'01a21648-042f-7000-a63d-fa736d43bfdf','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:48.143665Z"}','anna',NULL,'2026-11-26 05:15:48.143665','2026-11-26 05:15:48.143665','edge','rev0001-27',0);
INSERT INTO "journal" VALUES(67,'01a21648-045f-7000-9f3d-4d040accd359','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:48.191301Z"}','wim',NULL,'2026-11-26 05:15:48.191301','2026-11-26 05:15:48.191301','edge','rev0001-28',0);
INSERT INTO "journal" VALUES(68,'01a21648-048f-7000-a12c-1aa664588b74','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"1","scrap_reason":"bent shaft","at":"2026-11-26T05:15:48.239498Z"}','anna',NULL,'2026-11-26 05:15:48.239498','2026-11-26 05:15:48.239498','edge','rev0001-29',0);
INSERT INTO "journal" VALUES(69,'01a21648-04c3-7000-b869-e74a3eb501fc','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:48.291294Z"}','wim',NULL,'2026-11-26 05:15:48.291294','2026-11-26 05:15:48.291294','edge','rev0001-30',0);
INSERT INTO "journal" VALUES(70,'01a21648-0517-7000-b121-af0c00e73895','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:48.375598Z"}','anna',NULL,'2026-11-26 05:15:48.375598','2026-11-26 05:15:48.375598','edge','rev0001-31',0);
INSERT INTO "journal" VALUES(71,'01a21648-054c-7000-add0-2ea22d3042bb','demo-eindhoven-assembly-1','MachineStateChanged','equipment:PRESS-10','{"equipment":"PRESS-10","state":"down","reason":"jam","since":"2026-11-26T05:15:48.428123Z","previous":"running","previous_since":"2026-11-26T05:15:47.554724Z"}','admin',NULL,'2026-11-26 05:15:48.428123','2026-11-26 05:15:48.428123','edge','rev0001-32',0);
INSERT INTO "journal" VALUES(72,'01a21648-057f-7000-8557-fb9f2385d5e5','demo-eindhoven-assembly-1','MachineStateChanged','equipment:PRESS-10','{"equipment":"PRESS-10","state":"running","reason":null,"since":"2026-11-26T05:15:48.479287Z","previous":"down","previous_since":"2026-11-26T05:15:48.428123Z"}','admin',NULL,'2026-11-26 05:15:48.479287','2026-11-26 05:15:48.479287','edge','rev0001-33',0);
INSERT INTO "journal" VALUES(73,'01a21648-05af-7000-b8bd-7144c751cf3b','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:48.527781Z"}','wim',NULL,'2026-11-26 05:15:48.527781','2026-11-26 05:15:48.527781','edge','rev0001-34',0);
INSERT INTO "journal" VALUES(74,'01a21648-05df-7000-a140-169c3f13390c','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:48.575795Z"}','anna',NULL,'2026-11-26 05:15:48.575795','2026-11-26 05:15:48.575795','edge','rev0001-35',0);
INSERT INTO "journal" VALUES(75,'01a21648-060f-7000-a073-696cbe7b5c9c','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:48.623816Z"}','wim',NULL,'2026-11-26 05:15:48.623816','2026-11-26 05:15:48.623816','edge','rev0001-36',0);
INSERT INTO "journal" VALUES(76,'01a21648-063f-7000-af80-a2670f3cf20e','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:48.671761Z"}','anna',NULL,'2026-11-26 05:15:48.671761','2026-11-26 05:15:48.671761','edge','rev0001-37',0);
INSERT INTO "journal" VALUES(77,'01a21648-0673-7000-bf4a-ea378f10178f','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:48.723796Z"}','wim',NULL,'2026-11-26 05:15:48.723796','2026-11-26 05:15:48.723796','edge','rev0001-38',0);
INSERT INTO "journal" VALUES(78,'01a21648-06a0-7000-bcd0-f53cb60be271','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:48.768348Z"}','anna',NULL,'2026-11-26 05:15:48.768348','2026-11-26 05:15:48.768348','edge','rev0001-39',0);
INSERT INTO "journal" VALUES(79,'01a21648-06cb-7000-9465-21e5ae5ba68d','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:48.811337Z"}','wim',NULL,'2026-11-26 05:15:48.811337','2026-11-26 05:15:48.811337','edge','rev0001-40',0);
INSERT INTO "journal" VALUES(80,'01a21648-06ff-7000-bd79-8f1a6472316d','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:48.863727Z"}','anna',NULL,'2026-11-26 05:15:48.863727','2026-11-26 05:15:48.863727','edge','rev0001-41',0);
INSERT INTO "journal" VALUES(81,'01a21648-072f-7000-a1c8-1a2151dd789a','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:48.911801Z"}','wim',NULL,'2026-11-26 05:15:48.911801','2026-11-26 05:15:48.911801','edge','rev0001-42',0);
INSERT INTO "journal" VALUES(82,'01a21648-0760-7000-bfd7-5e1b6c260fcc','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:48.960176Z"}','anna',NULL,'2026-11-26 05:15:48.960176','2026-11-26 05:15:48.960176','edge','rev0001-43',0);
INSERT INTO "journal" VALUES(83,'01a21648-07a7-7000-ba38-74ef5f1134b9','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:49.031498Z"}','wim',NULL,'2026-11-26 05:15:49.031498','2026-11-26 05:15:49.031498','edge','rev0001-44',0);
INSERT INTO "journal" VALUES(84,'01a21648-07d2-7000-af75-9b1afc9b49e1','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:49.074850Z"}','anna',NULL,'2026-11-26 05:15:49.074850','2026-11-26 05:15:49.074850','edge','rev0001-45',0);
INSERT INTO "journal" VALUES(85,'01a21648-07e9-7000-a1ea-711e0d7d9bbb','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:49.097066Z"}','wim',NULL,'2026-11-26 05:15:49.097066','2026-11-26 05:15:49.097066','edge','rev0001-46',0);
INSERT INTO "journal" VALUES(86,'01a21648-0813-7000-807c-1ba525aa1890','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:49.139694Z"}','anna',NULL,'2026-11-26 05:15:49.139694','2026-11-26 05:15:49.139694','edge','rev0001-47',0);
INSERT INTO "journal" VALUES(87,'01a21648-083b-7000-be97-5d8f49a811c1','demo-eindhoven-assembly-1','StockMoved','lot:BLT-0907','{"lot":"BLT-0907","item":"BOLT-M8X25","kind":"move","from_bin":"A-01-2","to_bin":"LS-20","quantity":"10","lot_quantity_delta":"0","work_order":null,"bom_line":null,"reason":null,"at":"2026-11-26T05:15:49.179751Z"}','wim',NULL,'2026-11-26 05:15:49.179751','2026-11-26 05:15:49.179751','edge','rev0001-48',0);
INSERT INTO "journal" VALUES(88,'01a21648-086b-7000-a799-bdbfe81d6852','demo-eindhoven-assembly-1','ProductionReported','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"workstation":"WS-10","good":"1","scrap":"0","scrap_reason":null,"at":"2026-11-26T05:15:49.227781Z"}','anna',NULL,'2026-11-26 05:15:49.227781','2026-11-26 05:15:49.227781','edge','rev0001-49',0);
INSERT INTO "journal" VALUES(89,'01a21648-0894-7000-842e-160b1e409862','demo-eindhoven-assembly-1','MachineStateChanged','equipment:PRESS-10','{"equipment":"PRESS-10","state":"down","reason":"jam","since":"2026-11-26T05:15:49.268627Z","previous":"running","previous_since":"2026-11-26T05:15:48.479287Z"}','admin',NULL,'2026-11-26 05:15:49.268627','2026-11-26 05:15:49.268627','edge','rev0001-50',0);
INSERT INTO "journal" VALUES(90,'01a21648-08cf-7000-894e-94418b84fee2','demo-eindhoven-assembly-1','MachineStateChanged','equipment:PRESS-10','{"equipment":"PRESS-10","state":"running","reason":null,"since":"2026-11-26T05:15:49.327551Z","previous":"down","previous_since":"2026-11-26T05:15:49.268627Z"}','admin',NULL,'2026-11-26 05:15:49.327551','2026-11-26 05:15:49.327551','edge','rev0001-51',0);
INSERT INTO "journal" VALUES(91,'01a21648-0902-7000-b1df-0052f2056db2','demo-eindhoven-assembly-1','OperationPaused','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"reason":"break","at":"2026-11-26T05:15:49.378692Z"}','anna',NULL,'2026-11-26 05:15:49.378692','2026-11-26 05:15:49.378692','edge','rev0001-52',0);
INSERT INTO "journal" VALUES(92,'01a21648-0934-7000-8869-0ef3f4983f48','demo-eindhoven-assembly-1','OperationResumed','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"at":"2026-11-26T05:15:49.428187Z"}','anna',NULL,'2026-11-26 05:15:49.428187','2026-11-26 05:15:49.428187','edge','rev0001-53',0);
INSERT INTO "journal" VALUES(93,'01a21648-095e-7000-8eba-546bdecee2ba','demo-eindhoven-assembly-1','LotReceived','lot:H-9001','{"lot":"H-9001","item":"HOUSING-20","item_revision":"B","quantity":"30","bin":"REC-01","expiry":null,"supplier_lot":"GJ-60001","status":"available","at":"2026-11-26T05:15:49.470708Z"}','wim',NULL,'2026-11-26 05:15:49.470708','2026-11-26 05:15:49.470708','edge','rev0001-54',0);
INSERT INTO "journal" VALUES(94,'01a21648-0991-7000-ae05-519f17fd4ca1','demo-eindhoven-assembly-1','LotStatusChanged','lot:H-9001','{"lot":"H-9001","status":"hold","previous":"available","reason":"incoming inspection","ncr":null}','wim',NULL,'2026-11-26 05:15:49.521492','2026-11-26 05:15:49.521492','edge','rev0001-55',0);
INSERT INTO "journal" VALUES(95,'01a21648-09b6-7000-97e1-a6d6ccc60018','demo-eindhoven-assembly-1','NonconformanceRaised','ncr:NCR-1','{"ncr":"NCR-1","lot":"H-2231","work_order":null,"description":"scratched housing","raised_by":"anna","at":"2026-11-26T05:15:49.558440Z"}','anna',NULL,'2026-11-26 05:15:49.558440','2026-11-26 05:15:49.558440','edge','rev0001-56',0);
INSERT INTO "journal" VALUES(96,'01a21648-09b6-7001-b681-d1e59c96e086','demo-eindhoven-assembly-1','LotStatusChanged','lot:H-2231','{"lot":"H-2231","status":"hold","previous":"available","reason":"nonconformance NCR-1","ncr":"NCR-1"}','anna',NULL,'2026-11-26 05:15:49.558440','2026-11-26 05:15:49.558440','edge','rev0001-56',1);
INSERT INTO "journal" VALUES(97,'01a21648-09e1-7000-81fe-7dd09ffcd756','demo-eindhoven-assembly-1','StockMoved','lot:SK-3301','{"lot":"SK-3301","item":"SEAL-KIT-3","kind":"scrap","from_bin":"A-02-4","to_bin":null,"quantity":"2","lot_quantity_delta":"-2","work_order":null,"bom_line":null,"reason":"torn","at":"2026-11-26T05:15:49.601362Z"}','wim',NULL,'2026-11-26 05:15:49.601362','2026-11-26 05:15:49.601362','edge','rev0001-57',0);
INSERT INTO "journal" VALUES(98,'01a21648-09f9-7000-b4d7-d299a4459c08','demo-eindhoven-assembly-1','LabourClockedOff','work_order:WO-1001','{"operator":"anna","work_order":"WO-1001","operation":10,"since":"2026-11-26T05:15:46.918685Z","at":"2026-11-26T05:15:49.625861Z","minutes":"0.05"}','anna',NULL,'2026-11-26 05:15:49.625861','2026-11-26 05:15:49.625861','edge','rev0001-58',0);
INSERT INTO "journal" VALUES(99,'01a21648-0a28-7000-879f-ef8fbbab6d0b','demo-eindhoven-assembly-1','OperationCompleted','work_order:WO-1001','{"work_order":"WO-1001","operation":10,"at":"2026-11-26T05:15:49.672019Z"}','anna',NULL,'2026-11-26 05:15:49.672019','2026-11-26 05:15:49.672019','edge','rev0001-59',0);
CREATE TABLE labour_records (
	seq INTEGER NOT NULL, 
	operator VARCHAR(100) NOT NULL, 
	work_order VARCHAR(200) NOT NULL, 
	operation INTEGER NOT NULL, 
	since DATETIME NOT NULL, 
	until DATETIME NOT NULL, 
	minutes VARCHAR(40) NOT NULL, 
	CONSTRAINT pk_labour_records PRIMARY KEY (seq)
);
INSERT INTO "labour_records" VALUES(98,'anna','WO-1001',10,'2026-11-26 05:15:46.918685','2026-11-26 05:15:49.625861','0.05');
CREATE TABLE lots (
	lot VARCHAR(200) NOT NULL, 
	item VARCHAR(200) NOT NULL, 
	item_revision VARCHAR(200) NOT NULL, 
	quantity VARCHAR(40) NOT NULL, 
	status VARCHAR(200) NOT NULL, 
	expiry DATE, 
	supplier_lot VARCHAR(200), 
	status_before_hold VARCHAR(200), 
	CONSTRAINT pk_lots PRIMARY KEY (lot)
);
INSERT INTO "lots" VALUES('MOT-8812','MOTOR-075','A','35','available',NULL,'WEG-20261101',NULL);
INSERT INTO "lots" VALUES('L118','GREASE-LT2','A','40','available','2028-03-31','KL-24117',NULL);
INSERT INTO "lots" VALUES('H-2231','HOUSING-20','B','60','hold',NULL,'GJ-55102','available');
INSERT INTO "lots" VALUES('L123','GREASE-LT2','A','12','available','2026-10-01','KL-23088',NULL);
INSERT INTO "lots" VALUES('SK-3301','SEAL-KIT-3','B','98','available','2029-12-31','EK-3301',NULL);
INSERT INTO "lots" VALUES('IMP-5510','IMPELLER-7','D','80','available',NULL,'BR-7731',NULL);
INSERT INTO "lots" VALUES('IMP-4420','IMPELLER-7','C','15','available',NULL,NULL,NULL);
INSERT INTO "lots" VALUES('BLT-0907','BOLT-M8X25','A','2000','available',NULL,NULL,NULL);
INSERT INTO "lots" VALUES('R-7781','HOUSING-20','B','30','quarantine',NULL,'GJ-55190',NULL);
INSERT INTO "lots" VALUES('H-2232','HOUSING-20','B','15','available',NULL,'GJ-55102',NULL);
INSERT INTO "lots" VALUES('H-9001','HOUSING-20','B','30','hold',NULL,'GJ-60001','available');
CREATE TABLE machine_state_history (
	seq INTEGER NOT NULL, 
	equipment VARCHAR(200) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	reason VARCHAR(200), 
	since DATETIME NOT NULL, 
	previous VARCHAR(16), 
	previous_since DATETIME, 
	CONSTRAINT pk_machine_state_history PRIMARY KEY (seq)
);
INSERT INTO "machine_state_history" VALUES(42,'PRESS-10','running',NULL,'2026-11-26 05:15:46.968710',NULL,NULL);
INSERT INTO "machine_state_history" VALUES(53,'PRESS-10','down','jam','2026-11-26 05:15:47.507107','running','2026-11-26 05:15:46.968710');
INSERT INTO "machine_state_history" VALUES(54,'PRESS-10','running',NULL,'2026-11-26 05:15:47.554724','down','2026-11-26 05:15:47.507107');
INSERT INTO "machine_state_history" VALUES(71,'PRESS-10','down','jam','2026-11-26 05:15:48.428123','running','2026-11-26 05:15:47.554724');
INSERT INTO "machine_state_history" VALUES(72,'PRESS-10','running',NULL,'2026-11-26 05:15:48.479287','down','2026-11-26 05:15:48.428123');
INSERT INTO "machine_state_history" VALUES(89,'PRESS-10','down','jam','2026-11-26 05:15:49.268627','running','2026-11-26 05:15:48.479287');
INSERT INTO "machine_state_history" VALUES(90,'PRESS-10','running',NULL,'2026-11-26 05:15:49.327551','down','2026-11-26 05:15:49.268627');
CREATE TABLE machine_states (
	equipment VARCHAR(200) NOT NULL, 
	state VARCHAR(200) NOT NULL, 
	reason VARCHAR(200), 
	since DATETIME NOT NULL, 
	CONSTRAINT pk_machine_states PRIMARY KEY (equipment)
);
INSERT INTO "machine_states" VALUES('PRESS-10','running',NULL,'2026-11-26 05:15:49.327551');
CREATE TABLE moves (
	seq INTEGER NOT NULL, 
	lot VARCHAR(200) NOT NULL, 
	item VARCHAR(200) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	from_bin VARCHAR(200), 
	to_bin VARCHAR(200), 
	quantity VARCHAR(40) NOT NULL, 
	work_order VARCHAR(200), 
	bom_line INTEGER, 
	reason VARCHAR(200), 
	actor VARCHAR(100) NOT NULL, 
	at DATETIME NOT NULL, 
	CONSTRAINT pk_moves PRIMARY KEY (seq)
);
INSERT INTO "moves" VALUES(30,'H-2231','HOUSING-20','receive',NULL,'A-01-1','60',NULL,NULL,NULL,'seed','2026-10-20 00:00:00.000000');
INSERT INTO "moves" VALUES(31,'H-2232','HOUSING-20','receive',NULL,'LS-20','20',NULL,NULL,NULL,'seed','2026-10-20 00:00:00.000000');
INSERT INTO "moves" VALUES(32,'IMP-5510','IMPELLER-7','receive',NULL,'A-01-2','80',NULL,NULL,NULL,'seed','2026-11-02 00:00:00.000000');
INSERT INTO "moves" VALUES(33,'IMP-4420','IMPELLER-7','receive',NULL,'A-01-2','15',NULL,NULL,NULL,'seed','2026-05-12 00:00:00.000000');
INSERT INTO "moves" VALUES(34,'MOT-8812','MOTOR-075','receive',NULL,'LS-10','40',NULL,NULL,NULL,'seed','2026-11-05 00:00:00.000000');
INSERT INTO "moves" VALUES(35,'SK-3301','SEAL-KIT-3','receive',NULL,'A-02-4','100',NULL,NULL,NULL,'seed','2026-09-01 00:00:00.000000');
INSERT INTO "moves" VALUES(36,'BLT-0907','BOLT-M8X25','receive',NULL,'A-01-2','2000',NULL,NULL,NULL,'seed','2026-09-07 00:00:00.000000');
INSERT INTO "moves" VALUES(37,'L123','GREASE-LT2','receive',NULL,'LS-20','12',NULL,NULL,NULL,'seed','2026-04-02 00:00:00.000000');
INSERT INTO "moves" VALUES(38,'L118','GREASE-LT2','receive',NULL,'A-02-3','40',NULL,NULL,NULL,'seed','2026-09-15 00:00:00.000000');
INSERT INTO "moves" VALUES(39,'R-7781','HOUSING-20','receive',NULL,'REC-01','30',NULL,NULL,NULL,'seed','2026-11-24 00:00:00.000000');
INSERT INTO "moves" VALUES(43,'H-2232','HOUSING-20','issue','LS-20',NULL,'5','WO-1001',1,NULL,'anna','2026-11-26 05:15:47.017103');
INSERT INTO "moves" VALUES(44,'MOT-8812','MOTOR-075','issue','LS-10',NULL,'5','WO-1001',3,NULL,'anna','2026-11-26 05:15:47.067845');
INSERT INTO "moves" VALUES(45,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:47.117357');
INSERT INTO "moves" VALUES(47,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:47.227724');
INSERT INTO "moves" VALUES(49,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:47.315721');
INSERT INTO "moves" VALUES(51,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:47.411584');
INSERT INTO "moves" VALUES(55,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:47.607547');
INSERT INTO "moves" VALUES(57,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:47.707898');
INSERT INTO "moves" VALUES(59,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:47.823070');
INSERT INTO "moves" VALUES(61,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:47.917281');
INSERT INTO "moves" VALUES(63,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:48.007600');
INSERT INTO "moves" VALUES(65,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:48.100245');
INSERT INTO "moves" VALUES(67,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:48.191301');
INSERT INTO "moves" VALUES(69,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:48.291294');
INSERT INTO "moves" VALUES(73,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:48.527781');
INSERT INTO "moves" VALUES(75,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:48.623816');
INSERT INTO "moves" VALUES(77,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:48.723796');
INSERT INTO "moves" VALUES(79,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:48.811337');
INSERT INTO "moves" VALUES(81,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:48.911801');
INSERT INTO "moves" VALUES(83,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:49.031498');
INSERT INTO "moves" VALUES(85,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:49.097066');
INSERT INTO "moves" VALUES(87,'BLT-0907','BOLT-M8X25','move','A-01-2','LS-20','10',NULL,NULL,NULL,'wim','2026-11-26 05:15:49.179751');
INSERT INTO "moves" VALUES(93,'H-9001','HOUSING-20','receive',NULL,'REC-01','30',NULL,NULL,NULL,'wim','2026-11-26 05:15:49.470708');
INSERT INTO "moves" VALUES(97,'SK-3301','SEAL-KIT-3','scrap','A-02-4',NULL,'2',NULL,NULL,'torn','wim','2026-11-26 05:15:49.601362');
CREATE TABLE node_settings (
	name VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	CONSTRAINT pk_node_settings PRIMARY KEY (name)
);
INSERT INTO "node_settings" VALUES('node_id','demo-eindhoven-assembly-1');
CREATE TABLE nonconformances (
	ncr VARCHAR(200) NOT NULL, 
	lot VARCHAR(200), 
	work_order VARCHAR(200), 
	description VARCHAR(200) NOT NULL, 
	status VARCHAR(200) NOT NULL, 
	disposition VARCHAR(200), 
	raised_by VARCHAR(200) NOT NULL, 
	dispositioned_by VARCHAR(200), 
	CONSTRAINT pk_nonconformances PRIMARY KEY (ncr)
);
INSERT INTO "nonconformances" VALUES('NCR-1','H-2231',NULL,'scratched housing','open',NULL,'anna',NULL);
CREATE TABLE operations (
	work_order VARCHAR(200) NOT NULL, 
	operation INTEGER NOT NULL, 
	description VARCHAR(200) NOT NULL, 
	workstation VARCHAR(200) NOT NULL, 
	status VARCHAR(200) NOT NULL, 
	good VARCHAR(40) NOT NULL, 
	scrap VARCHAR(40) NOT NULL, 
	standard_minutes VARCHAR(40) NOT NULL, 
	started_at DATETIME, 
	completed_at DATETIME, 
	pause_reason VARCHAR(200), 
	CONSTRAINT pk_operations PRIMARY KEY (work_order, operation)
);
INSERT INTO "operations" VALUES('WO-1002',30,'Pressure test and pack','WS-30','released','0','0','4',NULL,NULL,NULL);
INSERT INTO "operations" VALUES('WO-1003',30,'Pressure test and pack','WS-30','released','0','0','5',NULL,NULL,NULL);
INSERT INTO "operations" VALUES('WO-1002',20,'Final assembly (housing, seal, grease, bolts)','WS-20','released','0','0','9',NULL,NULL,NULL);
INSERT INTO "operations" VALUES('WO-1002',10,'Pre-assemble motor and impeller','WS-10','released','0','0','6',NULL,NULL,NULL);
INSERT INTO "operations" VALUES('WO-1003',20,'Final assembly','WS-20','released','0','0','11',NULL,NULL,NULL);
INSERT INTO "operations" VALUES('WO-1001',30,'Pressure test and pack','WS-30','released','0','0','4',NULL,NULL,NULL);
INSERT INTO "operations" VALUES('WO-1003',10,'Pre-assemble motor and impeller','WS-10','released','0','0','7',NULL,NULL,NULL);
INSERT INTO "operations" VALUES('WO-1001',20,'Final assembly (housing, seal, grease, bolts)','WS-20','released','0','0','9',NULL,NULL,NULL);
INSERT INTO "operations" VALUES('WO-1001',10,'Pre-assemble motor and impeller','WS-10','completed','20','2','6','2026-11-26 05:15:46.865096','2026-11-26 05:15:49.672019',NULL);
CREATE TABLE production_reports (
	seq INTEGER NOT NULL, 
	work_order VARCHAR(200) NOT NULL, 
	operation INTEGER NOT NULL, 
	workstation VARCHAR(200) NOT NULL, 
	good VARCHAR(40) NOT NULL, 
	scrap VARCHAR(40) NOT NULL, 
	scrap_reason VARCHAR(200), 
	actor VARCHAR(100) NOT NULL, 
	at DATETIME NOT NULL, 
	CONSTRAINT pk_production_reports PRIMARY KEY (seq)
);
INSERT INTO "production_reports" VALUES(46,'WO-1001',10,'WS-10','1','1','bent shaft','anna','2026-11-26 05:15:47.179541');
INSERT INTO "production_reports" VALUES(48,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:47.271718');
INSERT INTO "production_reports" VALUES(50,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:47.363176');
INSERT INTO "production_reports" VALUES(52,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:47.459360');
INSERT INTO "production_reports" VALUES(56,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:47.660080');
INSERT INTO "production_reports" VALUES(58,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:47.775865');
INSERT INTO "production_reports" VALUES(60,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:47.871151');
INSERT INTO "production_reports" VALUES(62,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:47.963660');
INSERT INTO "production_reports" VALUES(64,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:48.055681');
INSERT INTO "production_reports" VALUES(66,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:48.143665');
INSERT INTO "production_reports" VALUES(68,'WO-1001',10,'WS-10','1','1','bent shaft','anna','2026-11-26 05:15:48.239498');
INSERT INTO "production_reports" VALUES(70,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:48.375598');
INSERT INTO "production_reports" VALUES(74,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:48.575795');
INSERT INTO "production_reports" VALUES(76,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:48.671761');
INSERT INTO "production_reports" VALUES(78,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:48.768348');
INSERT INTO "production_reports" VALUES(80,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:48.863727');
INSERT INTO "production_reports" VALUES(82,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:48.960176');
INSERT INTO "production_reports" VALUES(84,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:49.074850');
INSERT INTO "production_reports" VALUES(86,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:49.139694');
INSERT INTO "production_reports" VALUES(88,'WO-1001',10,'WS-10','1','0',NULL,'anna','2026-11-26 05:15:49.227781');
CREATE TABLE stock (
	lot VARCHAR(200) NOT NULL, 
	bin VARCHAR(200) NOT NULL, 
	quantity VARCHAR(40) NOT NULL, 
	CONSTRAINT pk_stock PRIMARY KEY (lot, bin)
);
INSERT INTO "stock" VALUES('MOT-8812','LS-10','35');
INSERT INTO "stock" VALUES('L118','A-02-3','40');
INSERT INTO "stock" VALUES('IMP-5510','A-01-2','80');
INSERT INTO "stock" VALUES('H-2231','A-01-1','60');
INSERT INTO "stock" VALUES('L123','LS-20','12');
INSERT INTO "stock" VALUES('H-2232','LS-20','15');
INSERT INTO "stock" VALUES('IMP-4420','A-01-2','15');
INSERT INTO "stock" VALUES('SK-3301','A-02-4','98');
INSERT INTO "stock" VALUES('BLT-0907','A-01-2','1800');
INSERT INTO "stock" VALUES('R-7781','REC-01','30');
INSERT INTO "stock" VALUES('BLT-0907','LS-20','200');
INSERT INTO "stock" VALUES('H-9001','REC-01','30');
CREATE TABLE users (
	user VARCHAR(100) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	roles JSON NOT NULL, 
	token_sha256 VARCHAR(64) NOT NULL, 
	pin_sha256 VARCHAR(64), 
	language VARCHAR(8) NOT NULL, 
	active BOOLEAN NOT NULL, 
	CONSTRAINT pk_users PRIMARY KEY (user), 
	CONSTRAINT uq_users_token_sha256 UNIQUE (token_sha256)
);
INSERT INTO "users" VALUES('admin','Demo administrator','["admin"]','4d922d2bf4286f54514b2f4d0ced1508a331a9d6c3a2442876596a7a92d936fe',NULL,'en',1);
INSERT INTO "users" VALUES('anna','Anna de Vries','["operator"]','81b5997c6265fe7f5d2bc47b9500d37f37e6b9848065695eae2c97c8c32fbf28','03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4','nl',1);
INSERT INTO "users" VALUES('wim','Wim Jansen','["warehouse"]','3ff736c47506eaa3cbf453d0fa39f62c266a576cbb1f41429da88df5a3824465',NULL,'nl',1);
INSERT INTO "users" VALUES('priya','Priya Raman','["quality"]','d63ccbac0a3bfd36402bd6c2a8add92f68bcdcef610cc646695bc22cb5b9370f',NULL,'en',1);
INSERT INTO "users" VALUES('joost','Joost Bakker','["supervisor"]','b1b837e0cb3ad678f7f0e171bb0a02f475c8e1e3bc729b590cee2d9eb334a3e4',NULL,'nl',1);
INSERT INTO "users" VALUES('erp-sync','ERP synchronisation (device account)','["service"]','66529c0fec9d618b52157cc6179ca481db7d52d56690f1d8b642b0ed19e67a7f',NULL,'en',1);
CREATE TABLE work_orders (
	work_order VARCHAR(200) NOT NULL, 
	item VARCHAR(200) NOT NULL, 
	item_revision VARCHAR(200) NOT NULL, 
	bom_revision VARCHAR(200) NOT NULL, 
	quantity VARCHAR(40) NOT NULL, 
	status VARCHAR(200) NOT NULL, 
	good VARCHAR(40) NOT NULL, 
	scrap VARCHAR(40) NOT NULL, 
	overproduction_tolerance_pct VARCHAR(40) NOT NULL, 
	due DATE, 
	customer_order VARCHAR(200), 
	CONSTRAINT pk_work_orders PRIMARY KEY (work_order)
);
INSERT INTO "work_orders" VALUES('WO-1001','PUMP-100','C','7','20','in_progress','0','2','5','2026-12-04','SO-88120');
INSERT INTO "work_orders" VALUES('WO-1002','PUMP-100','C','7','50','released','0','0','2','2026-12-11','SO-88141');
INSERT INTO "work_orders" VALUES('WO-1003','PUMP-150','A','2','10','released','0','0','0','2026-12-18',NULL);
CREATE INDEX ix_journal_subject ON journal (subject);
CREATE INDEX ix_labour_records_work_order ON labour_records (work_order);
CREATE INDEX ix_machine_state_history_equipment ON machine_state_history (equipment);
CREATE INDEX ix_moves_lot ON moves (lot);
CREATE INDEX ix_production_reports_work_order ON production_reports (work_order);
COMMIT;
