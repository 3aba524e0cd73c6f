#!/bin/bash
# session 13 validation arms (one at a time), resumable
A=$(dirname "$0")/arm.sh
R='format=0.3333333333333333,accuracy=0.3333333333333333,consistency=0.3333333333333333'
nice -n 5 bash $A gated --rewards $R --reward-config 'consistency={"when":"correct"}'
nice -n 5 bash $A steps400-mu2 --steps 400
nice -n 5 bash $A acc-only-400 --rewards format=0.5,accuracy=0.5 --steps 400
nice -n 5 bash $A gated-400 --rewards $R --reward-config 'consistency={"when":"correct"}' --steps 400
