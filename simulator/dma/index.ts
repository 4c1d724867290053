// The DMA layer: importing this registers its hooks, op handlers, schemas and report additions.
import './schemas';
import './cookie';
import './flush-queue';
import './ops';
import './iova-ops';
import './report';
