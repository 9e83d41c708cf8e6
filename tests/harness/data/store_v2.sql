-- A version-2 result database as saicbench wrote it before schema version 3 (commit 23e527f,
-- `sqlite3 v2.db .dump`), for tests/harness/test_metrics_store.py: the upgrade must keep every
-- row and the run's content checksum (run_checksums), and old files must still be reported.
-- Made with:
--   saicbench run --db v2.db --data DATASETS/cifar10 --split test --limit 3
--     --codec jpeg:quality=30,70 --codec webp:bpp=1.0 --task tasks/models/classifier_resnet20.ckpt
--     --timing-repeats 2 --strip-images 1 --threads 1 --quiet
-- (tasks, timing repeats, thumbnails and a bpp target included). The PRAGMAs at the end are
-- the file header's, which .dump does not write.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  suite_name    TEXT NOT NULL,
  suite_path    TEXT,             -- NULL for ad-hoc runs
  suite_hash    TEXT NOT NULL,    -- XXH3-128 of the canonical run plan (suite + data + limits)
  suite_text    TEXT,             -- the suite file as read, for reproduction
  command       TEXT,             -- argv joined
  started_at    TEXT NOT NULL,    -- ISO 8601 UTC
  ended_at      TEXT,
  status        TEXT NOT NULL CHECK (status IN ('running','interrupted','complete','failed')),
  git_revision  TEXT,
  host          TEXT,
  threads       INTEGER,
  library_versions TEXT,          -- JSON object {"libjpeg-turbo": "...", ...}
  saicbench_version TEXT,
  shard         TEXT              -- "I/N" for one shard of a partitioned run, NULL otherwise
);
INSERT INTO runs VALUES(1,'adhoc',NULL,'21b6b2232fb60f4841186ebf0c23465a','adhoc data=/work/shared/datasets/cifar10 split=test codec=jpeg:quality=30,70 codec=webp:bpp=1.0 task=/work/wt-metrics/tasks/models/classifier_resnet20.ckpt','run --db v2.db --data /work/shared/datasets/cifar10 --split test --limit 3 --codec jpeg:quality=30,70 --codec webp:bpp=1.0 --task /work/wt-metrics/tasks/models/classifier_resnet20.ckpt --timing-repeats 2 --strip-images 1 --threads 1 --quiet','2026-12-06T07:30:44Z','2026-12-06T07:30:44Z','complete','23e527f13569','vm',1,'{"jansson":"2.14","jpeg":"libjpeg-turbo 2.1.5 (libjpeg API 62)","jpeg2000":"OpenJPEG 2.5.0","libpng":"1.6.39","libyaml":"0.2.5","metrics-kernels":"avx512","openmp":"201511","saic":"saic bitstream 2","sqlite":"3.40.1","webp":"libwebp 1.2.4"}','0.1.0',NULL);
CREATE TABLE datasets (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  name          TEXT NOT NULL,    -- suite name of the dataset, e.g. "cifar10-test"
  path          TEXT NOT NULL,
  kind          TEXT NOT NULL,    -- cifar-binary | class-folders | plain-folder
  content_hash  TEXT NOT NULL,    -- XXH3-128 over the selected images (names, labels, bytes)
  n_images      INTEGER NOT NULL,
  n_classes     INTEGER NOT NULL,
  class_names   TEXT,             -- JSON array, index = label
  selection     TEXT,             -- e.g. "limit=1000 stride=10"
  UNIQUE (run_id, name)
);
INSERT INTO datasets VALUES(1,1,'cifar10-test','/work/shared/datasets/cifar10','class-folders','c53e3714c990f98ddf84695a47f3acb3',3,10,'["airplane","automobile","bird","cat","deer","dog","frog","horse","ship","truck"]','offset=0 stride=1 count=3');
CREATE TABLE images (
  id            INTEGER PRIMARY KEY,
  dataset_id    INTEGER NOT NULL REFERENCES datasets(id),
  idx           INTEGER NOT NULL, -- position in the dataset's full listing
  name          TEXT NOT NULL,
  label         INTEGER,          -- NULL when unlabeled
  width         INTEGER,          -- NULL when the image could not be read
  height        INTEGER,
  hash          TEXT,             -- XXH3-128 of the decoded RGB8 pixels
  error         TEXT,             -- why the image could not be used, NULL if fine
  UNIQUE (dataset_id, idx)
);
INSERT INTO images VALUES(1,1,0,'airplane/0000.jpg',0,32,32,'aef1b9a705f299ff5118c5c551fe5d7e',NULL);
INSERT INTO images VALUES(2,1,1,'airplane/0001.jpg',0,32,32,'057abca860d236306a1e7b580c949f79',NULL);
INSERT INTO images VALUES(3,1,2,'airplane/0002.jpg',0,32,32,'1e07ce00d3d35ae9bfc8fff1b98b6211',NULL);
CREATE TABLE codecs (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  label         TEXT NOT NULL,    -- unique name in the run, e.g. "jpeg" or "jpeg-444"
  codec         TEXT NOT NULL,    -- codec_vtable.name
  library_version TEXT,
  settings      TEXT NOT NULL,    -- JSON object of the settings given
  knob_name     TEXT NOT NULL,
  plugin_path   TEXT,
  UNIQUE (run_id, label)
);
INSERT INTO codecs VALUES(1,1,'jpeg','jpeg','libjpeg-turbo 2.1.5 (libjpeg API 62)','{}','quality',NULL);
INSERT INTO codecs VALUES(2,1,'webp','webp','libwebp 1.2.4','{}','quality',NULL);
CREATE TABLE points (
  id            INTEGER PRIMARY KEY,
  codec_id      INTEGER NOT NULL REFERENCES codecs(id),
  kind          TEXT NOT NULL CHECK (kind IN ('knob','bpp')),
  value         REAL NOT NULL,    -- the knob value, or the target bpp
  UNIQUE (codec_id, kind, value)
);
INSERT INTO points VALUES(1,1,'knob',30.0);
INSERT INTO points VALUES(2,1,'knob',70.0);
INSERT INTO points VALUES(3,2,'bpp',1.0);
CREATE TABLE results (
  image_id      INTEGER NOT NULL REFERENCES images(id),
  point_id      INTEGER NOT NULL REFERENCES points(id),
  knob          REAL,             -- knob value actually used
  bytes         INTEGER,          -- file bytes
  stream_bytes  INTEGER,
  bpp           REAL,             -- 8*bytes/(w*h)
  stream_bpp    REAL,
  mse           REAL,
  psnr          REAL,
  ssim          REAL,
  ms_ssim       REAL,
  encode_ms     REAL,             -- of the final encode
  decode_ms     REAL,
  n_encodes     INTEGER,          -- encodes spent (bpp targets bisect)
  target_unreachable INTEGER NOT NULL DEFAULT 0, -- 1: even the lowest rate exceeds the target
  error         TEXT,             -- NULL on success
  PRIMARY KEY (image_id, point_id)
) WITHOUT ROWID;
INSERT INTO results VALUES(1,1,30.0,761,136,5.9453125,1.0625,94.786458333333328592,28.363340645761383029,0.92257044064299564833,NULL,0.012909000739455223083,0.014326501637697219848,1,0,NULL);
INSERT INTO results VALUES(1,2,70.0,881,256,6.8828125,2.0,7.5641276041666669627,39.343215142382703675,0.99445565723146100989,NULL,0.016118999570608139038,0.016814500093460083007,1,0,NULL);
INSERT INTO results VALUES(1,3,4.9000175309537921108,128,108,1.0,0.84375,166.31315104166665718,25.92153768900293187,0.86486588456731006147,NULL,0.20525450073182582855,0.028247000649571418762,9,0,NULL);
INSERT INTO results VALUES(2,1,30.0,747,122,5.8359375,0.953125,79.415364583333328597,29.131758268510907328,0.89935527839353179846,NULL,0.019869999960064888,0.014501500874757766723,1,0,NULL);
INSERT INTO results VALUES(2,2,70.0,857,232,6.6953125,1.8125,5.8990885416666669627,40.422954461585575815,0.99296789976631993912,NULL,0.0086180008947849273681,0.012749001383781433105,1,0,NULL);
INSERT INTO results VALUES(2,3,7.4191983095064824027,128,108,1.0,0.84375,127.4397786458333286,27.077753524139485108,0.8724997042763620314,NULL,0.11811500042676925659,0.021736999973654747009,5,0,NULL);
INSERT INTO results VALUES(3,1,30.0,741,116,5.7890625,0.90625,58.997721354166664299,30.422451224871544183,0.92443014339549212099,NULL,0.015778999775648117065,0.0083725005388259887695,1,0,NULL);
INSERT INTO results VALUES(3,2,70.0,826,201,6.453125,1.5703125,6.0436197916666669627,40.317832261100903677,0.99092696106766908759,NULL,0.0085530001670122146606,0.010855998843908309936,1,0,NULL);
INSERT INTO results VALUES(3,3,12.444833518822468576,128,108,1.0,0.84375,52.794596354166664297,30.904908870777013873,0.95263272383083796857,NULL,0.11281250044703483581,0.019353499636054039001,7,0,NULL);
CREATE TABLE timing_repeats (
  image_id      INTEGER NOT NULL REFERENCES images(id),
  point_id      INTEGER NOT NULL REFERENCES points(id),
  encode_ms     TEXT NOT NULL,    -- JSON array, e.g. [1.25,1.1875,1.3125]
  decode_ms     TEXT NOT NULL,
  PRIMARY KEY (image_id, point_id)
) WITHOUT ROWID;
INSERT INTO timing_repeats VALUES(1,1,'[0.013330001384019852,0.012488000094890594]','[0.018087003380060196,0.010565999895334244]');
INSERT INTO timing_repeats VALUES(1,2,'[0.019228998571634293,0.013009000569581985]','[0.022252999246120453,0.011376000940799713]');
INSERT INTO timing_repeats VALUES(1,3,'[0.2185639999806881,0.19194500148296356]','[0.03949899971485138,0.016995001584291458]');
INSERT INTO timing_repeats VALUES(2,1,'[0.029844999313354492,0.009895000606775284]','[0.01887800171971321,0.010125000029802322]');
INSERT INTO timing_repeats VALUES(2,2,'[0.009734999388456345,0.00750100240111351]','[0.008071999996900558,0.017426002770662308]');
INSERT INTO timing_repeats VALUES(2,3,'[0.11993800103664398,0.11629199981689453]','[0.031195998191833496,0.012278001755475998]');
INSERT INTO timing_repeats VALUES(3,1,'[0.022533997893333435,0.009024001657962799]','[0.009463999420404434,0.007281001657247543]');
INSERT INTO timing_repeats VALUES(3,2,'[0.009224001318216324,0.007881999015808105]','[0.014591999351978302,0.007119998335838318]');
INSERT INTO timing_repeats VALUES(3,3,'[0.11442000046372414,0.11120500043034554]','[0.027319997549057007,0.011387001723051071]');
CREATE TABLE thumbnails (
  image_id      INTEGER NOT NULL REFERENCES images(id),
  point_id      INTEGER NOT NULL, -- points.id, or 0 for the original image
  width         INTEGER NOT NULL, -- of the thumbnail
  height        INTEGER NOT NULL,
  png           BLOB NOT NULL,
  PRIMARY KEY (image_id, point_id)
) WITHOUT ROWID;
INSERT INTO thumbnails VALUES(1,0,32,32,X'89504e470d0a1a0a0000000d4948445200000020000000200802000000fc18eda3000008404944415448893596cb925dd95186f3b6d6be9c53e79cba48a5924a480dd196c3e1b6097800c230228880294c3c300c303c0bcfc00c1e80117343db616c7774d3ed7658ea965a259554aa9254754e9dbdf75a796150cd3fccc99f7f46e49789fff2afffb1b7bbdb35797fb9d2edf6dd9bf32e67261ac7ed72771514a3564c68081a9e924cc33513641622224044240f00b0b1b46d4b017ddfb303006491972f5f0a31889010792db556af753b95697b1dae1c9eb3381809abdb584b2110028db00022222244a480884000614e2c4424c24494736ee73319866b8f0551ca89e6cb9d552354ecddf99ba8f560366fdb4c049c53add3308d8ed0b533335337006066647277752f5afbae47e1b66d1d22009c510944844508c2ca34300999f9346ece2f74bbc5f53a2716c4a64daa3a4d13499e1ddc720f300342170e806a3ab9eeddbe95dbce2180d0d434dc182bb82005009899112151c36c046c156bb1b58fb582ebc4e466663537b36f5e9e7bb0038090132ac6a875745d2df73cb911808506189248c2a611d328a530276a9aa6691a03af3aebbaa3c32376afd7d7510b23589dac6adbcf7656874119999c51212a46012f181181889438a5e48681814c40242965045183aa70b51ecedf5d6e2e2e4e1e3f6d1e7d98dd6dd8727862a955eb5494a45ead891b605288ea5619b049d8a4e1fdd59c28cdfbdc5110879b562f45a59628c53989a436314f790a69a2cda76fdf67040eed52ea9827a202309ad7776f89531056d3c93484f2bccf7df7ecf4c5c1f670b9bf178cc1640480e855a549fdac5f7a99ae87cabd4837dbbdd7743b0b34b5b24d88f3be1362aca3a88a0884a49489b9689da6c9199bae6b665db7bfdbcc7b12661285400734080bd95bedcdfbf984c42ce65003bba6ebf6f3e98b6f2222acbe79379a550068bba66729652b3a06b26a5175a048618d4d07b70e739bcc0298d002c1288800a5cb0d7ad45a73cea9ed8ae960b5d669244ab945047747f09c33314f88d27501ee0ee0420e44c0924188da1684d42aa86b75a4004206969c643e6b93a08898d5b10cb3d96c7f7fd9cc7b6674775515e1aeebdc7d1886aecd606e66ee4e8037cb8c88d52d1cdddd490201914544244b9dd66d9e13e0fbf717272727afde9cddbd7bf7c183075ddb767d8b88dbedb69412ee4dce3925c4505530a2080644440088880000444a2239a3191191300a4b9bc37d1caeaf86ed3abc8e9bab4f3f39fdc5c73ffbf0c30fefdf3b3e3e3e6e9a8699bd56046edb64ee48fc2d7f026e1400371601e011eeae6680388c23ffe34fff79b19ca3eb7c6776f7eee1eeee22eaf4faf4c5ab17279717e73a8c5d4acbae9fe5dc90708020118a2033100132122211b24710b1aa39402daaee017079b5e6bffaebbfd95d2d53969cb86fbbddc5e2fef1d11f3ef883675f7ffdeefcfcf5ab17a06577315f2de60d41b8d5e2e1801ea1e66aaa0aeee140c4c46ce688640e849c53b31d27fef18fff61b1b3700b61112130ebbb66b133dfdb5d7cf1c567a56e5f9d9efcfef16fd506f5f1f6ed5b1640c444181ee18e80c84c9cea64f3d9229c5583201167005e5f5ef34f7ef24f7bbbfbcc22891bc900918423bcc9f9d9b3afdf9e9f31c376b83e3d3d79fdfaf4c9d75fa5dc98aa5999ea00116d9f89a994c9ddc2757dbd2624668e7061f27051f76a16e668e0e2a54c6652b51cde39da3fb8fde9a79feeeccc00f9eccdc554f49be72fbef8f2cbdb778eeeddbbb7b77bb0582c16abd562b5375f744dbbe30e40536a3042d7ebb52ad5ba15e12c22818e88221c11421c112f5fbe3a3b7b73f1f6fde5e5e572b9ecfa0549468eeb61f3dbdffdef679ffda69a9bd96267f5fd1ffee0a38f7eb858ae56ab1522a70c8c921b24e25283fff6effe7e369ba93960006255256275fbf5af7efdf8f1630f383b3bbbbada747dbfd96cbbbecb6d33db59f4fdcc81d47c18cbf3e727fff3cb5f7df29b4f2edf5f6dd6dbebeb619a6a96dc36cd70bd15555575778d6008377305d3ead3543ff8e08fbef7bdef7ffcf17f3d7bf6aca85eafb77b07077ffe177f69665f7df5d5d5e79faf96f3870f1fbac1d3a74fdd63d6affa6e89914cc98d4d69d8aaa494524aee8c18cc6cfeed29ffb31ffd28a5d434cd1fffe99f3c7ffe7cbbddd4b1deb97bfcdd471f11e7ef3ebaf8c147278cb2b7b7b7dd6e9f3e7dbabf7febfefdfb44e2ee1024285e18b4c77ffbf7ff3cba77c7cd0091894a1999b994c9cc524a9bcd464490e2f2f232a5d4773b9b8dba092232b3a99a59dbf48bc5e2f5ebd74dd36e361b4414c9ccdcb6edd5d595fcfcbf7fb61936cbf9ce584b1da7d4e6699accac9402e8ee6e7673b029e79ca4bd75700c21ffcf9e1b161122a6948433109a59ad3522e446b3be81d0b611e228e04dd7084175bbb5bf748488b831880866664ee0833bb8c30d502dbe059d887012b398a6018028911b8cd356b45e4fe3159356d33a15409da6c9215ebdbf08848850d51b0f004004c230abaa7a5377088b404420545522a144dbed783d6c7657fbf78e8fe4f75f7e7ef1f66dd77537d152db4cd304004dd33884bb575577bf699330ba96c18b99d59bee11902808d5cd2000004644c4d5feecced162efce5cda0c22465411030284dc398808bc98dbcd1c0088bffd148d40038cd085c2f1269407a1a9766d536ab5b0fb1f3cfccea347a594274f9e4899b6e376ed650c04d3604da51411c939831b863311339210221208a321482056af0ea1eeee60e4883c8c65bed8b97b7cbcbbbff7eacdf9e9e9e9c5bbb732ebda36a7c402842e20390901890040624614929c522222770fb35e9608108e165addd4adb855d06ed607d3e1d19dc3bb47676f2f3efbfcf1300c874777c443ddaa82539039600db34a04c59488243589910523dcbc6ad1642d0601810743847b98bb0523a4070f3f68bbeecbdf3d79f6fc7920cce6abf5d5f07f3e967bc1d92a5cd50000000049454e44ae426082');
INSERT INTO thumbnails VALUES(1,1,32,32,X'89504e470d0a1a0a0000000d4948445200000020000000200802000000fc18eda3000008144944415448895d96cb925c495286fd16e79a95999595a52c49a396d4332c69c69817001e6230e06578145e80c52c7805186e3b1a6cacd574ab25d53d55595599e79cb8b83b8b5283199ff922767fc4c2fff8f06fffeeef9f3f7fbe5ace638cd330009a151da7c7cd6a0da80c0860e00a00e086e6e8c0880448448c4444028888bb9bedf1f171d7b6aa2a8ecc3c8ee3dddd9d8801ab73f1ca1048084c01c0e8d3bb1fea8abba6699a8a09ac684a31e7acaa00c0805f00604000385e2c454444884890eaba161175932e439bbc4d6e469d07214806a1d0f16c35ebeac5d17c3eeb0253c9390ec398627bbc3000770700ff1900d8ed768c0c8e6e608cc8126aacdb4eea0275b2908d000543001835dba4dbcbeb28149bf6b10e8ca0a5584ca3e5e3572f12babbab9999a99b9919c26a7dc2cc8868668e90b5a86ad6228da1140fc998a86616739b941ea785098c29dddfa592510b3a0880096e8b2544055733752b6e065ec05fbd78d5373d054116737796a216dd4590d0dc54c58080c02d8fd374bfffcd1fff89c531ee87341cb06402ac453c08ace691c1000dd4800aaa022a992b10605535286c481c283b18a114c64c105d1d001c45753f8dbbc3e3fbf38f9813a66239712908200ecad49827064036762736b4c26c649f77fba865ae800db3b00366f3545452c02820e48a666460e5ded3ae4c1fb6d735414b52093113161b4ad668bb9b6b07726617446215706615f874733359890ef55157b71d9b0c31eea728b8e81ea18c59dba6e9038bf0ec179b5fad67658c3541c74110500b64652d5e6cd9aedcc000150d583c2054950578f9cb5f711b32e2214e05a8911649a4aa858f3a611621228e66c98d1aa6aa9d2c3f4e87b2df0978db540d074745f5f171c705d5d1509dc50362a82cc0b3172f9d05008904499004088844b80a4ddb364d0566711c55adebfaae0d13daf458064b08ee0d415b31222708b9e5826ce068460c0151823340555115d081c15002911001020b15ab881b0939a61463ce3110435f55b36e7dd4ac5f9c8116f382882148474d1feb90f969031c11995c08899c1024901b9a101102232a22cb917197a11acbf4b03f5cdede3ddcdd0669fb6ab95caecf4e4e4f4f817cb7fb7c98c65057b376116f52415475737277272770440f22cc6c068e640eee00eaa02eebd005139b340cd91fc7c3cde7fde190313d7ff122c581019bbe29a53c5d7902f53694025ed0ccbe14061122023aa21bb8ba81a1aa96524a2972e2151a0371db2f9b8d2f4275f9f9f67ed87dfafec7cf3797e73f7d387df1ece474d5cf8f04699aa6b65f7921280aaaa006004044882517743083acee6ea598662b49054119bda99be5f1d1e66cf57238bbbebbf97c7ff7bb7ff8ddedf5f8e9c34faf1fde1cb5bf7e7eba61a1c310cd463528c5543328001a01177422017773038f66a206c552f1897ffbd77f552f2ae9659ff7631eb8e5d9bc3b5a74751d1eeeefae2e2ea6fdfef6e2f2fd77ef3095af5fbe82382d9b3063a23255607d404de3fdf672de376dcb4dc500094845cca1649f046a809aa0264276050e8488c1c337df7c737e7efefe871f87fb7d4d211fa6ff18e2cda7cbf5f278b3d91c2d16590b00348bf98bf5eae566fd8777dfc5a903c4214e88d81fcd9cb0aa44cce0ff0d22984108758cf9eaea26c6380c535555efdf7f20facfb393d3376fdeac37cf0c9c88366767afdebc5eae8edfbcfeba6e9bace5eee13ee72c12b2a93b4a8a96a2095b4aa66a08868871d2949270333f5a4d619af5cbbeef010011bffbeeddeded2ed4f5308d22b2797e76bad9345dfbebdffce97cb9a8ea3a17470c88c1d45334210c4f8360844418109150ffed5ffff9fa6a4b18e2b4fff8e14244dab6edfbfeebb77f344dd3d5edcded76cbccbbfbfd7ffde1ddfdc3c3efffe5df5fbdfeeaf5db3727a7a7a7a7a7c7272b0046141169442a91c60c545d242072085ed7fddbb7bfecfbc5c78f3f9d9f5f0ec3de9d11f92f7ffb37dbedcdf73fbebfb83a670e755bed1ef61fcf3ff4dda2ef8e66fd72369bf7fda269ba548c6994698cd3940863ca498bb93b024d31fef99ffd050b8dc37471797efee9e230ec85435587afbe7abdd96cd69be7dbbb2d02b57d3ba6b4bddb76b3a3d57ad5cf8e8c9c49522c438cc330c9fdfdbd04cea9a41cb5581d2b049ae2787d75d3b435028de358d775dd544ce260df7efb6dd7b50a5f0821f4f3f9e278f1f1fc62bfdfef0fc390c6a760271a8683fcd3efffb194a4ea44205201588c39c6119155f39785026246914a84defee28dbb2aa081baa381aaa3a3b5fd11dcb801264d392b90574d575522f3795754b4389207a91db48e21656aea4e2d976c6ad90d89812910c3d5f52700fb1260a85e0cc94053b1d9bc6ffb592c7177f77018f7c052d741ee76d7294f251b920b57489e93a63c3575675e9e024c01d01018c90fbbfdffbdc0d0e0cb3915ebeedbaa6987383c3e1c8ae57ebe582ee7f2e9e2bf534a29250078f2b2a7167c322a55353355fd5fc1ea420d000a6ef0b31d211878ddb5dbcff7538ad9b46ddb93f5faece5e6f8f858cc27b598cbe4eee64f9d6ee66a660000e8c400684fb83b1201008223b89b213980238203e532a8e5f962fefcf9d9c97acd151f863b318f45c75c46555593100200981b31111133131100d8cfd444ee6e88eae64ee6aee08e30e543db85678bd57af36cb95cc694defff4fef2f252729e521aa7e9a0aa22a21a88c8cc109199430821046646042234432600400547473347000070849a64b55e9d6e9e554df3f07077797d75bdbd3d0c0769dacabca8e5528a8854554544ee3e8e2312b1a00412f9593add3d1577777007077cfa1bdddd8f57cbd3d393a3a3fef3fdee871fbfbfdd6edb59fff6edebff019e5d9217b49b6e060000000049454e44ae426082');
INSERT INTO thumbnails VALUES(1,2,32,32,X'89504e470d0a1a0a0000000d4948445200000020000000200802000000fc18eda30000088a4944415448893596c98e5ed775857777ceb9dddfb1aad814a562598a642590cd283132cbcc8093c0e30c028f0c23088cbc8c1f20b3e40932ca20010cc3100cd9b219d98c284a11c5529155aa62757f77ef3d7b9f9d019df5021fd6e45b0b7ff62fff7e6bb1a842dc992d6cbb393f3d99346d605eae6f16bb3bcebe1e7a48e44c192c045eafae84504488282001003a00808f5a55155a69db168a03408af1e8e84880812223a3963cea90f3b8bcd661bb1ec79e3c738a43c93c4876dde481198551c11500113312110100b80300130912119190105755d5b4ad5cf7cb99cfa2b0246aabd9ac89c1e0f29bd3611b6f4fa7759d8021a438e8b8de6e88a8aa2acd66668e20224ee8ee5a6c54adeb868852aadcbd0018a2020826818a0c6d3dae0044dcc6be7f75fa52371bdadcc4108820a5a0360ec31024d53b77c88a1543c4225c0846d5def2dedd3bb1aab5147418540bb80b8d6e52d80bc2582c18d642228cec5832591e97d7c390dd721dc472b692bdeebe7a7e5e9c0a0230015346dfe8d86bde5dec16b1026ee2665e0813074995a896711c018862acaaaa0222f349d3de7be32016ed6f6e6ce813b3f65bb3dcb5f3e962df3920496137a40c3a000ca8e814908939a454880d0b87c8cc52c78a5dbc7819e13aafcfae2e37e717cf3f7dd2bcff9d6045375b2a06e263d63c0c0537bd5f80242451d75c5cc5392648dc6f862978ecba041c08bde432963ca8d8c6b4b2c492baba623619905794da97af2e1322696e624009038f3d407178757d05928070d03c9aa270d5b535b44fbef8fcf6febdf9dece1ede25614360541f8b74dcddaae7c3b61f56636aea54b5f5bd37bb6616b0e4ed8601a6933630d1b84d39830843e09498399bf67d5f009aa6a9dbe6cf266dddb6c81439983b035001184d6e4f77e6f56c5d28b020042f1a9b3ad5edf1d15705c0d52e5e5da88e005ed7759baae57683301291aae69cd161835679dedbdb4b29a92a30b92a3810a0104b172bd462c35877b14ed5320f9b31e73c6cdd435521a26946a8534a1c43cfc06d424477a752a215020c2c28c2758dc4255bce96b32262126060098293ae0e82318959de6cb793693bdfbd9bba8a45d4c6611c4394a6690c7cb55ed75d5d5ccd0c8b1320231220220ea60e30ba219003303305e11864bbb9bc7b670e4857d7e75f3e7b767cf2f2f0f0f04fde7da76eabba691ccad5f2661886d134a5349d4c48d08cd415c0898801a1b8bb0310b048481c23b2313384585884a2f5babc59de2cd7cb427918371fffeed7bffcf0176fbffdf6c1e183838383aeae18bca822872605772f8846e8e80080004eaf01000005a1206428d98a675a0d5bfea77ffee97c31296eedb43938b87f6bef56d6fef9d1972f5e1c5f9e9f8dfdd08438ebba26a5842c80093962882401598010909199d8cc0979cc5a00863167b542f4eaea8a7ff0c31feeeced48084418639874ed9b6fec1f3e78707a7c7cfecde9cbe75f69ee17d36e3eed841c34db58dcdcdd4d35e79cc75cac147761211135439452005852acd6db9e7ff4a37f9c7673cd39b0a490a05897ea6957cfbaf6f1ef1fc5005f1f7df93f7ff82d93b98fb76fef950244ece8a5b81543a4109248b5ed87e96ca738992162204ae0e1ea62c53ffec94f7777f718258658c70a016210f09262383e3ebaba380f82fd7675f2f2f8ececf4c9674f52acd44b297933ac004bdd548ebe5e2f01dc345f5d5f22820803408a020462ea9acb988d8ab9fb30f6516518c67bfbf76fedec3d7af4683e9fb254df9cbd1ab36d369f7ff2f8937bfbfb0f1e7c6b77777732994dc7c564365fecb4a9ae4c7d744f95bb6f96cbf598791836221245c41d8920042ea5049152ca8b97a72727a7a7df9c5f5e5e2e168bae9b934449aa257ff6c5a77f78fc49561d863c9d4e1f7ef097dffbde5f355dbb98ef983b383351aa288a8cd9f9efffe127eda41bb33902a1a81a2266d58f7ffbe8e9674f89f9e4e474b5da4c67b3e56ad376138932994d27dd0c98ad403fe8f3e7471f7ef8ab8f3efaf5cdcd72bdda6cd77d1e72553593a6db6cb6a2aa9a8baabab3a29a39a19b95d56a7d70f8d6c3870f7f1ee3b367cfd69be1f2f2723a9f7ffffb7f07004f9f7e7172fabba6de79ef83f78ac1d3a74f879c9b7ad1540b2f318f54461e7ab8b9d84a15631523231291089b191221d30ffef66f44b8a9ea877ff1c1d1d151dff7ebf5fae0cdc36fbffb5d09d59fbe77f6ddeffcb548bc73e7ce7ab53d7cf0f9ce62f7f0f0109154d5dd05920de2b9c17ffdb7ff78e3e07e1e46470821f4fd8699fb61134240c4ab8b8b9492885c5c5c84c84d3dbbb951536266667eddbeebbac562e7f8e8ebbaae6f6e564414631491a669afaeaee4a35f7df89fff75339f4cb7e3d0f77dd354dbedf6b58a01bc94a2aac59588428c31b43bf3fbe00200f8c71022e2ebb10c8139a8ea388eee1e4288314ad7a662b1a923b10b795d578c30aace26bb7fbc24aaaaa3bb33b370459e8be5528aaa95520c1c0001c001628ceeb81d077717917c93d7ebb5986ef3b81a7ad09c751832db386c0bf88be37347f87f80663300600426286ad934e76c66c5dd0901c0bca8aaa418625cad56d7d7d7d3f9ece0e0409e3c7e747676d6b66d56cd39872a0dc300005555157033cbaa66f6da978436695229a3aae662ee0e84c4ec84a3e682e00ab07544be75afdedfdfbbbb3f95ae916584c0260482102290032082e752cc548b19023013331302786630404576077002e0024c4e10aab4eeb7830e6fbdf5cefb7ffefe38e8a74f1e4bbf5e2e6f2e739f1cc1cc428ec33020738c9515f35210404448880805246081424484c50c5c8b97e2a64622cbd5a6e9dab71fbc776b6ff7e8eb93172f5ebcbab8906957357548c2c064461284112406332346a424222104602aa5b8fa445a7232f0e23eba69b1d1460397b66e18efddbf7fffcdfd1767a7bff9f8f1a6ef0f0e0ec4bd8099219253f1e285cc321b8ee380c2814884426077ef8bda5806350644444304072b6ec6ea854cde79f7dbcda4f9efdf7ff6bfcfbe740ef3d9f4e272fd7f6bf26b9c4b4913890000000049454e44ae426082');
INSERT INTO thumbnails VALUES(1,3,32,32,X'89504e470d0a1a0a0000000d4948445200000020000000200802000000fc18eda300000674494441544889ad96cb8e1d491186ff88ccacacdbb9b6fb662334c65e8084c40a19592cfc1a68243462817804042fc086c7e0052c6ffd000806e495673cde19e3617abadba7fb9caa3a9599112cf274f7809b4142e4b2548a2fe28ff833927effbb3feceded1d1f1fb77513b6fdb65f4382a65125520c0c6190213836d616d1f1bae6e00c9361665606003080d393afbdf76ddd546559f9b26ddbaedbbc7dfbd6e23f1f214041040041528a614c3a08465205ab0a2903503000ef7d5d9655597aefbf19c43ae78828a594522422620a63921448125404228244ca44244884efdeb99b084237a18538a42492ac754d5d9765b5d96c6e00d65a228a31c6980c8189528a611c49922105440003a8616266365fbffb0733830d8c81b212845881e9725e14bef255e18bf57a0d20250160bdf7cc1c624c295a976169bbdd32c41906841549138f5032004e4e4eb2ee4a10b010142c841fffe4d1b0de5c5e5c4491e97cb65aad88e8e0e0d03ae78839c518632a0b474441e23604430a30ab08409292289100f8e9e3c7acbbc6660094236932e48aa22dac32859454555577150050551101a04c640c19062998b3484404022b007cf9f61de7ffae300007c6a6809f36f3f9a29e34dbf5377a4044008848085125b7c5951e928801108459252551655539599da92809896a1e53160e067fdb9c4fee2c8fc7ed222c8ba2b801186b01301111a928989d2f14254902896862859258055b4779ce88c85822ca802cd4e33b3f4c0c520050152206707676669908003303221a88609d0379894135420100444935651d29a9aa845154907d400c60c27bb79ac9bac2e61e3051526526ebad313e18c4080601280a1b42b0c6edba4550a1ec0000199373bf05902b1020a631a99a44ce5b210104405d55a2caa422898d01b07f78701d74673721558d3166fcbf038c2500ac8889c218d643278865e5968b5955fb182248c67124672449165309222422126312c9d510d187d10158369439b5adfa7efdd5c9dffff4e73fbe7efdeae38f7ff6e0e17d226566ebd8b3db743d11297d10c29a18d3adfa18c3e6179ffc8a99405a5565d33480ae37977ddfbd7efdc5b0edad3521c6aaf26ddb125844caaa02a04ad949aa6a8d4b2919c3d7153033a0441442d875d85ac744d699ef3df8e8fb3f7808c86f7efbebe7cf9f9f9dfde8e1c387ce71e9ebaaaa76ce52066ed4b0d6a83a002989aa66ade86a38cd273fff2533f9b2a8aad23967ad0114d0e5629124bc79f3e6e4e464f5fee2f4f4d418d7b66ddd4c7c5936753b9dce16f3793b990cfd60ad1311e63c31b902002a22164051144ddd144541a48a0408208be5cc7bbfdd6e4308c3309c9d9f9f9c9c1e1e1eee1f1ecde78bf97ce9ac63c3ceba6c3d6b0db3114921c46c34556136d6976ed23645610149a28064fce1d1615dd79bcd66bd594fda49d775e767efdfbdfbb2285fcde7f3c3c3e3aa2c5d51b46d3b6967de7bef7d5555455188684a1049220ac01a63d970929c38409244002c17cb5cc1f9d9f9d00f4dd3d4f520f2d5a6df16855b2cee4c26136bcc743a3d3abab7582e968be57c3e1791b66d8cb1d70db75d77e9bd338689140031e5063e7bf66c75717e707867d876db21244922329d4e8feeb6cc7618866e737971b1eefa1efad7318cdefbfb1fdd7ff2e4c9f1f1d1743acde903b07dbf994e5b906162228264d74bdbd6fbfbfb0f1e3c98cd669fbd7c55d77553b7cbe5deddefdcadeb66184600433f8618a09c52f4de1f1c1ce4f4f338ed00808044150261308808c4cc8f1e3d8a290ec3308ee3cb979f377553d7ed743a9dce67c6daa11f6308e7ef2ffaaecf7771511479b588a494e2cd10df664011c1a77ff9d459e78a02c06c36f7de37751b43fcfcd5abf5e565df8f6ddb2e177b6ddb006cad73cead56efd7ebcd388e65595eaf04fbf4e95300a2aa2aba3b29843086214fb0b38ec8a8ea761b0a574ce6b3baae88cc95e3604c4144c6703b9984714c49ac35c6ec52b7fbfbfb00e426fab701c671ecbacde5fa3287e68c0103b8da8c7cad43fe624fcf4ef36da13b88a8a61063180700ae70ce3922a3a2db6d08218e31a82ac0aa0a6555b9daccb81df0e2c58b1de0bf56300400f5a46136574bd600c8f8eb6784aadcbb77efa6c97b7b7ba7a7a7ff7a43196b6ddbd644c4262f7e03a06d8daa76db4152641851651222524d792e4552ae603e5fdc5470db147ddbf1de5f89a33bf561accd0e457e9bae56eff3e5f1bf003e3cce39e76c5996d63a6b6d8c711c43d7f5f9a1f57f00186bbcf74dd3565509a0ebfad56ad5f75dd7f700fe09caf7d716bf3a882b0000000049454e44ae426082');
CREATE TABLE run_checksums (
  run_id        INTEGER PRIMARY KEY REFERENCES runs(id),
  sha256        TEXT NOT NULL,    -- 64 lowercase hex digits
  n_rows        INTEGER NOT NULL, -- rows covered
  computed_at   TEXT NOT NULL     -- ISO 8601 UTC
);
INSERT INTO run_checksums VALUES(1,'c843dcb8792b950e9c7e40f3ca24c245f3b51af243fbbb785d6c6270b13a4134',50,'2026-12-06T07:30:44Z');
CREATE TABLE aggregates (
  point_id      INTEGER NOT NULL REFERENCES points(id),
  dataset_id    INTEGER NOT NULL REFERENCES datasets(id),
  n             INTEGER NOT NULL, -- images with a result and no error
  n_errors      INTEGER NOT NULL,
  n_unreachable INTEGER NOT NULL,
  mean_knob     REAL,
  mean_bpp      REAL,
  mean_stream_bpp REAL,
  mean_psnr     REAL,             -- mean of per-image PSNR
  psnr_of_mean_mse REAL,
  mean_ssim     REAL,
  mean_ms_ssim  REAL,             -- NULL if undefined for every image
  mean_encode_ms REAL,
  mean_decode_ms REAL,
  PRIMARY KEY (point_id, dataset_id)
) WITHOUT ROWID;
INSERT INTO aggregates VALUES(1,1,3,0,0,30.0,5.8567708333333330372,0.97395833333333337034,29.305850046381276996,29.224739182178165464,0.91545195414400648559,NULL,0.016186000158389408226,0.012400167683760324535);
INSERT INTO aggregates VALUES(2,1,3,0,0,70.0,6.6770833333333330372,1.7942708333333332593,40.028000621689727722,40.000147842413554142,0.99278350602181664186,NULL,0.0110966668774684276,0.013473166773716608105);
INSERT INTO aggregates VALUES(3,1,3,0,0,8.2546831197609140673,1.0,0.84375,27.968066694639805546,27.50438812765988672,0.89666610422483661313,NULL,0.1453940005352099829,0.023112500086426734924);
CREATE TABLE tasks (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  name          TEXT NOT NULL,    -- unique name in the run, e.g. "resnet20"
  kind          TEXT NOT NULL,    -- 'classifier'
  checkpoint    TEXT NOT NULL,    -- path as given (resolved against the suite file's folder)
  checkpoint_sha256 TEXT NOT NULL,
  arch          TEXT NOT NULL,    -- architecture name from the checkpoint
  num_classes   INTEGER NOT NULL,
  input_width   INTEGER NOT NULL, -- images of another size are not scored by this task
  input_height  INTEGER NOT NULL,
  UNIQUE (run_id, name)
);
INSERT INTO tasks VALUES(1,1,'classifier_resnet20','classifier','/work/wt-metrics/tasks/models/classifier_resnet20.ckpt','b2dc27db4e32a2d89ebb2733b71230378f17d9648dfa14f4142e368a643cc330','resnet20-w16',10,32,32);
CREATE TABLE task_refs (
  task_id       INTEGER NOT NULL REFERENCES tasks(id),
  image_id      INTEGER NOT NULL REFERENCES images(id),
  top1          INTEGER NOT NULL, -- predicted class on the original (A)
  correct       INTEGER,          -- top1 == label; NULL when unlabeled
  probs         BLOB NOT NULL,    -- num_classes softmax probabilities, float32 little-endian
  PRIMARY KEY (task_id, image_id)
) WITHOUT ROWID;
INSERT INTO task_refs VALUES(1,1,0,1,X'13e4633f3de1d23b5a600a38787d0a3815f40435b521f135ae741d3527359b341469cc3dcd7f643b');
INSERT INTO task_refs VALUES(1,2,0,1,X'697c7e3f9e9ab0355068743842b4893bf52b683768549b3acdc5c539dacb6e37ae378138be9d3e34');
INSERT INTO task_refs VALUES(1,3,0,1,X'7c197e3ffe4c7d362b92893bcdacd93a8da83d356a6a68368a73c03ab153503516808538d5c8c837');
CREATE TABLE task_results (
  task_id       INTEGER NOT NULL REFERENCES tasks(id),
  image_id      INTEGER NOT NULL REFERENCES images(id),
  point_id      INTEGER NOT NULL REFERENCES points(id),
  top1          INTEGER NOT NULL, -- predicted class on the decoded image (B)
  correct       INTEGER,          -- top1 == label; NULL when unlabeled
  agree         INTEGER NOT NULL, -- top1 == task_refs.top1
  kl            REAL NOT NULL,    -- KL(T(x) || T(x_hat)) in bits
  PRIMARY KEY (task_id, image_id, point_id)
) WITHOUT ROWID;
INSERT INTO task_results VALUES(1,1,1,0,1,1,0.12941185584238684702);
INSERT INTO task_results VALUES(1,1,2,0,1,1,0.22588498271738485789);
INSERT INTO task_results VALUES(1,1,3,0,1,1,0.95111501339074733252);
INSERT INTO task_results VALUES(1,2,1,0,1,1,0.12894582742078145032);
INSERT INTO task_results VALUES(1,2,2,0,1,1,0.00042044191675664604199);
INSERT INTO task_results VALUES(1,2,3,0,1,1,0.0071281291058822018533);
INSERT INTO task_results VALUES(1,3,1,0,1,1,0.10469631117357722227);
INSERT INTO task_results VALUES(1,3,2,0,1,1,0.0049904337127348492864);
INSERT INTO task_results VALUES(1,3,3,0,1,1,0.008773681326124585858);
CREATE TABLE task_aggregates (
  task_id       INTEGER NOT NULL REFERENCES tasks(id),
  point_id      INTEGER NOT NULL REFERENCES points(id),
  dataset_id    INTEGER NOT NULL REFERENCES datasets(id),
  n             INTEGER NOT NULL, -- decoded images scored
  accuracy      REAL,             -- NULL when unlabeled
  ref_accuracy  REAL,             -- accuracy on the originals of the same n images
  agreement     REAL,
  h_a           REAL,             -- H(A)
  si            REAL,             -- I(A;B)
  si_norm       REAL,             -- SI / H(A)
  i_y_a         REAL,             -- I(Y;A)
  i_y_b         REAL,             -- I(Y;B)
  delta_i       REAL,             -- I(Y;A) - I(Y;B)
  mean_kl       REAL,
  PRIMARY KEY (task_id, point_id, dataset_id)
) WITHOUT ROWID;
INSERT INTO task_aggregates VALUES(1,1,1,3,1.0,1.0,1.0,0.0,0.0,NULL,0.0,0.0,0.0,0.12101799814558185375);
INSERT INTO task_aggregates VALUES(1,2,1,3,1.0,1.0,1.0,0.0,0.0,NULL,0.0,0.0,0.0,0.077098619448958780053);
INSERT INTO task_aggregates VALUES(1,3,1,3,1.0,1.0,1.0,0.0,0.0,NULL,0.0,0.0,0.0,0.32233894127425138931);
CREATE INDEX results_point ON results(point_id);
CREATE INDEX images_dataset ON images(dataset_id);
CREATE INDEX task_results_point ON task_results(point_id);
CREATE VIEW result_rows AS
SELECT ru.id AS run_id, ru.started_at AS started_at, ru.suite_name AS suite_name,
       ru.status AS run_status, d.name AS dataset, i.idx AS image_idx, i.name AS image_name,
       i.label AS label, CASE WHEN i.label IS NOT NULL AND json_valid(d.class_names)
         THEN json_extract(d.class_names, '$[' || i.label || ']') END AS class_name,
       i.width AS width, i.height AS height, c.label AS codec, c.codec AS codec_name,
       c.knob_name AS knob_name, p.kind AS point_kind, p.value AS point_value, r.knob AS knob,
       r.bytes AS bytes, r.stream_bytes AS stream_bytes, r.bpp AS bpp, r.stream_bpp AS stream_bpp,
       r.mse AS mse, r.psnr AS psnr, r.ssim AS ssim, r.ms_ssim AS ms_ssim,
       r.encode_ms AS encode_ms, r.decode_ms AS decode_ms, r.n_encodes AS n_encodes,
       r.target_unreachable AS target_unreachable, r.error AS error,
       d.id AS dataset_id, r.image_id AS image_id, c.id AS codec_id, r.point_id AS point_id
FROM results r
JOIN images i ON i.id = r.image_id
JOIN datasets d ON d.id = i.dataset_id
JOIN points p ON p.id = r.point_id
JOIN codecs c ON c.id = p.codec_id
JOIN runs ru ON ru.id = d.run_id;
CREATE VIEW task_result_rows AS
SELECT ru.id AS run_id, ru.started_at AS started_at, ru.suite_name AS suite_name,
       ru.status AS run_status, d.name AS dataset, i.idx AS image_idx, i.name AS image_name,
       i.label AS label, CASE WHEN i.label IS NOT NULL AND json_valid(d.class_names)
         THEN json_extract(d.class_names, '$[' || i.label || ']') END AS class_name,
       t.name AS task, t.arch AS task_arch, c.label AS codec, c.codec AS codec_name,
       p.kind AS point_kind, p.value AS point_value, r.bpp AS bpp, r.psnr AS psnr,
       tr.top1 AS top1, tr.correct AS correct, tr.agree AS agree, tr.kl AS kl,
       tf.top1 AS ref_top1, tf.correct AS ref_correct,
       d.id AS dataset_id, tr.image_id AS image_id, c.id AS codec_id, tr.point_id AS point_id,
       tr.task_id AS task_id
FROM task_results tr
JOIN tasks t ON t.id = tr.task_id
JOIN images i ON i.id = tr.image_id
JOIN datasets d ON d.id = i.dataset_id
JOIN points p ON p.id = tr.point_id
JOIN codecs c ON c.id = p.codec_id
JOIN runs ru ON ru.id = t.run_id
LEFT JOIN results r ON r.image_id = tr.image_id AND r.point_id = tr.point_id
LEFT JOIN task_refs tf ON tf.task_id = tr.task_id AND tf.image_id = tr.image_id;
CREATE VIEW point_summary AS
SELECT ru.id AS run_id, ru.started_at AS started_at, ru.suite_name AS suite_name,
       ru.status AS run_status, d.name AS dataset, c.label AS codec, c.codec AS codec_name,
       c.knob_name AS knob_name, p.kind AS point_kind, p.value AS point_value,
       a.n AS n, a.n_errors AS n_errors, a.n_unreachable AS n_unreachable,
       a.mean_knob AS mean_knob, a.mean_bpp AS mean_bpp, a.mean_stream_bpp AS mean_stream_bpp,
       a.mean_psnr AS mean_psnr, a.psnr_of_mean_mse AS psnr_of_mean_mse,
       a.mean_ssim AS mean_ssim, a.mean_ms_ssim AS mean_ms_ssim,
       a.mean_encode_ms AS mean_encode_ms, a.mean_decode_ms AS mean_decode_ms,
       a.dataset_id AS dataset_id, c.id AS codec_id, a.point_id AS point_id
FROM aggregates a
JOIN points p ON p.id = a.point_id
JOIN codecs c ON c.id = p.codec_id
JOIN datasets d ON d.id = a.dataset_id
JOIN runs ru ON ru.id = d.run_id;
CREATE VIEW task_point_summary AS
SELECT ru.id AS run_id, ru.started_at AS started_at, ru.suite_name AS suite_name,
       ru.status AS run_status, d.name AS dataset, t.name AS task, t.arch AS task_arch,
       c.label AS codec, c.codec AS codec_name, p.kind AS point_kind, p.value AS point_value,
       a.mean_bpp AS mean_bpp, a.mean_psnr AS mean_psnr,
       ta.n AS n, ta.accuracy AS accuracy, ta.ref_accuracy AS ref_accuracy,
       ta.agreement AS agreement, ta.h_a AS h_a, ta.si AS si, ta.si_norm AS si_norm,
       ta.i_y_a AS i_y_a, ta.i_y_b AS i_y_b, ta.delta_i AS delta_i, ta.mean_kl AS mean_kl,
       ta.dataset_id AS dataset_id, c.id AS codec_id, ta.point_id AS point_id,
       ta.task_id AS task_id
FROM task_aggregates ta
JOIN tasks t ON t.id = ta.task_id
JOIN points p ON p.id = ta.point_id
JOIN codecs c ON c.id = p.codec_id
JOIN datasets d ON d.id = ta.dataset_id
JOIN runs ru ON ru.id = t.run_id
LEFT JOIN aggregates a ON a.point_id = ta.point_id AND a.dataset_id = ta.dataset_id;
COMMIT;
PRAGMA user_version=2;
PRAGMA application_id=1396851778;
