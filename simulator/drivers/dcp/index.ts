// Apple display sharing between DCP and PIODMA (seed 001's thread).
import './dcp';
