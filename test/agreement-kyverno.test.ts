/** The agreement matrix through the Kyverno CLI with ClusterPolicys (test/support/kyverno-matrix.ts). */
import { describeKyvernoMatrix } from './support/kyverno-matrix.js';

describeKyvernoMatrix('ClusterPolicy');
