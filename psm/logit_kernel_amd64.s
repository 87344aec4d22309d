//go:build amd64 && !noasm

#include "textflag.h"

// func lgRank4FMA(dst *float64, m, m4 int, w *[4]float64, u0, u1, u2, u3 *float64)
TEXT ·lgRank4FMA(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), BX
	MOVQ m+8(FP), R8
	MOVQ m4+16(FP), R9
	MOVQ w+24(FP), AX
	VMOVSD 0(AX), X8
	VMOVSD 8(AX), X9
	VMOVSD 16(AX), X10
	VMOVSD 24(AX), X11
	MOVQ u0+32(FP), R12
	MOVQ u1+40(FP), R13
	MOVQ u2+48(FP), SI
	MOVQ u3+56(FP), DX
	XORQ CX, CX // j

rowloop:
	// BX = &g[j, 0]; s_r = w_r * u_r[j] broadcast to Y0..Y3.
	CMPQ CX, R8
	JGE done
	VMULSD (R12)(CX*8), X8, X0
	VMULSD (R13)(CX*8), X9, X1
	VMULSD (SI)(CX*8), X10, X2
	VMULSD (DX)(CX*8), X11, X3
	VBROADCASTSD X0, Y0
	VBROADCASTSD X1, Y1
	VBROADCASTSD X2, Y2
	VBROADCASTSD X3, Y3
	MOVQ CX, AX
	ANDQ $-4, AX // k = j rounded down to a multiple of 4

vecloop:
	VMOVUPD (BX)(AX*8), Y4
	VFMADD231PD (R12)(AX*8), Y0, Y4
	VFMADD231PD (R13)(AX*8), Y1, Y4
	VFMADD231PD (SI)(AX*8), Y2, Y4
	VFMADD231PD (DX)(AX*8), Y3, Y4
	VMOVUPD Y4, (BX)(AX*8)
	ADDQ $4, AX
	CMPQ AX, R9
	JLT vecloop

	LEAQ (BX)(R9*8), BX
	INCQ CX
	JMP rowloop

done:
	VZEROUPPER
	RET

// func lgCPUID(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·lgCPUID(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func lgXGETBV() (eax, edx uint32)
TEXT ·lgXGETBV(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func lgNonzeroMask(x *float64, n4 int, mask *uint64)
// Bit c of mask[c/64] = x[c] != 0 for c < 4*n4 (AVX compares, 4 values
// at a time; -0 counts as zero).
TEXT ·lgNonzeroMask(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n4+8(FP), CX
	MOVQ mask+16(FP), DI
	VXORPD Y1, Y1, Y1

wordloop:
	// Whole words of 64 values: 16 independent compares combined by a
	// tree of shifts and ors.
	CMPQ CX, $16
	JLT  partword
	VCMPPD $4, 0(SI), Y1, Y0
	VMOVMSKPD Y0, AX
	VCMPPD $4, 32(SI), Y1, Y2
	VMOVMSKPD Y2, DX
	SHLQ $4, DX
	ORQ  DX, AX
	VCMPPD $4, 64(SI), Y1, Y3
	VMOVMSKPD Y3, R8
	VCMPPD $4, 96(SI), Y1, Y4
	VMOVMSKPD Y4, DX
	SHLQ $4, DX
	ORQ  DX, R8
	SHLQ $8, R8
	ORQ  R8, AX
	VCMPPD $4, 128(SI), Y1, Y0
	VMOVMSKPD Y0, R9
	VCMPPD $4, 160(SI), Y1, Y2
	VMOVMSKPD Y2, DX
	SHLQ $4, DX
	ORQ  DX, R9
	VCMPPD $4, 192(SI), Y1, Y3
	VMOVMSKPD Y3, R8
	VCMPPD $4, 224(SI), Y1, Y4
	VMOVMSKPD Y4, DX
	SHLQ $4, DX
	ORQ  DX, R8
	SHLQ $8, R8
	ORQ  R8, R9
	SHLQ $16, R9
	ORQ  R9, AX
	VCMPPD $4, 256(SI), Y1, Y0
	VMOVMSKPD Y0, R11
	VCMPPD $4, 288(SI), Y1, Y2
	VMOVMSKPD Y2, DX
	SHLQ $4, DX
	ORQ  DX, R11
	VCMPPD $4, 320(SI), Y1, Y3
	VMOVMSKPD Y3, R8
	VCMPPD $4, 352(SI), Y1, Y4
	VMOVMSKPD Y4, DX
	SHLQ $4, DX
	ORQ  DX, R8
	SHLQ $8, R8
	ORQ  R8, R11
	VCMPPD $4, 384(SI), Y1, Y0
	VMOVMSKPD Y0, R9
	VCMPPD $4, 416(SI), Y1, Y2
	VMOVMSKPD Y2, DX
	SHLQ $4, DX
	ORQ  DX, R9
	VCMPPD $4, 448(SI), Y1, Y3
	VMOVMSKPD Y3, R8
	VCMPPD $4, 480(SI), Y1, Y4
	VMOVMSKPD Y4, DX
	SHLQ $4, DX
	ORQ  DX, R8
	SHLQ $8, R8
	ORQ  R8, R9
	SHLQ $16, R9
	ORQ  R9, R11
	SHLQ $32, R11
	ORQ  R11, AX
	MOVQ AX, (DI)
	ADDQ $8, DI
	ADDQ $512, SI
	SUBQ $16, CX
	JMP  wordloop

partword:
	// R10 = groups of 4 left (< 16); R12 = their end.
	TESTQ CX, CX
	JLE   maskdone
	MOVQ  $16, R10
	CMPQ  CX, R10
	CMOVQLT CX, R10
	MOVQ  R10, R11
	SHLQ  $5, R11
	LEAQ  (SI)(R11*1), R12
	MOVQ  R12, R13
	XORQ  AX, AX

grouploop:
	// Horner from the last group down: AX = AX<<4 | mask of the group.
	CMPQ R12, SI
	JLE  storeword
	SUBQ $32, R12
	VCMPPD $4, (R12), Y1, Y0
	VMOVMSKPD Y0, DX
	SHLQ $4, AX
	ORQ  DX, AX
	JMP  grouploop

storeword:
	MOVQ AX, (DI)
	ADDQ $8, DI
	MOVQ R13, SI
	SUBQ R10, CX
	JMP  wordloop

maskdone:
	VZEROUPPER
	RET

// func lgScanRowFMA(x *float64, p4 int, w float64, sumWX, nzW, mn, mx *float64) (bad bool)
// lgScanRowGo on the first 4*p4 values, 4 at a time (AVX2): sumWX += w*x
// (multiply, then add, as lgScanRowGo rounds), nzW += (x != 0 ? w : +0),
// mn = (x < mn ? x : mn) (VMINPD), mx = (x > mx ? x : mx) (VMAXPD); bad
// when some value has an all-ones exponent (Inf or NaN).
TEXT ·lgScanRowFMA(SB), NOSPLIT, $0-57
	MOVQ x+0(FP), SI
	MOVQ p4+8(FP), CX
	VBROADCASTSD w+16(FP), Y8
	MOVQ sumWX+24(FP), R8
	MOVQ nzW+32(FP), R9
	MOVQ mn+40(FP), R10
	MOVQ mx+48(FP), R11
	MOVQ $0x7ff0000000000000, AX
	MOVQ AX, X9
	VPBROADCASTQ X9, Y9 // exponent mask
	VXORPD Y10, Y10, Y10 // zero
	VXORPD Y11, Y11, Y11 // non-finite lanes
	XORQ DX, DX
	SHLQ $2, CX

scanloop:
	CMPQ DX, CX
	JGE  scandone
	VMOVUPD (SI)(DX*8), Y0
	VANDPD Y9, Y0, Y1
	VPCMPEQQ Y9, Y1, Y1
	VPOR Y1, Y11, Y11
	VMULPD Y8, Y0, Y2
	VADDPD (R8)(DX*8), Y2, Y2
	VMOVUPD Y2, (R8)(DX*8)
	VCMPPD $4, Y10, Y0, Y3
	VANDPD Y8, Y3, Y3
	VADDPD (R9)(DX*8), Y3, Y3
	VMOVUPD Y3, (R9)(DX*8)
	VMINPD (R10)(DX*8), Y0, Y4
	VMOVUPD Y4, (R10)(DX*8)
	VMAXPD (R11)(DX*8), Y0, Y5
	VMOVUPD Y5, (R11)(DX*8)
	ADDQ $4, DX
	JMP  scanloop

scandone:
	VMOVMSKPD Y11, AX
	TESTQ AX, AX
	SETNE bad+56(FP)
	VZEROUPPER
	RET

// func lgSparseFillFMA(f *lgFillArgs, row, u, pf *float64, cols *uint16, k int, idx *int, val *float64) (eta float64)
// lgFill.fillGo with fused multiply-adds in the two partial sums; it
// first prefetches the f.p values at pf (a later row). f: dcol+0, dcen+8,
// nd+16, bd+24, sidx+32, bs+40, b0+48, p+56.
TEXT ·lgSparseFillFMA(SB), NOSPLIT, $0-72
	MOVQ f+0(FP), R15
	MOVQ pf+24(FP), AX
	MOVQ 56(R15), DX
	LEAQ -8(AX)(DX*8), DX // last value
	ANDQ $-64, AX

pfloop:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, DX
	JLE  pfloop

	MOVQ row+8(FP), SI
	MOVQ u+16(FP), DI
	MOVQ 0(R15), R8  // dcol
	MOVQ 8(R15), R9  // dcen
	MOVQ 16(R15), CX // nd
	MOVQ 24(R15), R10 // bd
	VXORPD X0, X0, X0 // dense partial sum
	VXORPD X1, X1, X1 // sparse partial sum
	XORQ AX, AX

dloop:
	CMPQ AX, CX
	JGE  dend
	MOVQ (R8)(AX*8), DX
	VMOVSD (SI)(DX*8), X2
	VSUBSD (R9)(AX*8), X2, X2
	VMOVSD X2, (DI)(AX*8)
	VFMADD231SD (R10)(AX*8), X2, X0
	INCQ AX
	JMP  dloop

dend:
	MOVQ cols+32(FP), R11
	MOVQ k+40(FP), CX
	MOVQ 32(R15), R12 // sidx
	MOVQ 40(R15), R13 // bs
	MOVQ idx+48(FP), R14
	MOVQ val+56(FP), BX
	XORQ AX, AX

sloop:
	CMPQ AX, CX
	JGE  send
	MOVWQZX (R11)(AX*2), DX
	MOVQ (R12)(DX*8), R8
	VMOVSD (SI)(DX*8), X2
	MOVQ R8, (R14)(AX*8)
	VMOVSD X2, (BX)(AX*8)
	VFMADD231SD (R13)(R8*8), X2, X1
	INCQ AX
	JMP  sloop

send:
	VMOVSD 48(R15), X3
	VADDSD X0, X3, X3
	VADDSD X1, X3, X3
	VMOVSD X3, eta+64(FP)
	RET

// func lgSparseRowsFMA(gsd *float64, md4 int, gss *float64, ns int, idx *int, val *float64, off *int, nr int, w, ud *float64)
// For the rows r = 0..nr-1 of a buffer, with weight w[r], dense vector
// u = ud[r*md4 : r*md4+md4] and nonzero sparse values idx/val[off[r]:off[r+1]],
// and for each of those t, with a = w[r]*val[t] and s = idx[t]:
// gsd[s*md4 : s*md4+md4] += a*u (packed fused multiply-adds) and
// gss[s*ns + idx[t2]] += a*val[t2] for t <= t2 < off[r+1] (scalar fused):
// lgSparseRowGo with one rounding per update.
TEXT ·lgSparseRowsFMA(SB), NOSPLIT, $0-80
	MOVQ gsd+0(FP), BX
	MOVQ md4+8(FP), R8
	MOVQ gss+16(FP), R9
	MOVQ ns+24(FP), R10
	MOVQ idx+32(FP), R11
	MOVQ val+40(FP), R12
	MOVQ off+48(FP), R14
	XORQ R15, R15 // r

rowsloop:
	CMPQ R15, nr+56(FP)
	JGE  rowsdone
	MOVQ w+64(FP), AX
	VMOVSD (AX)(R15*8), X8
	MOVQ R15, AX
	IMULQ R8, AX
	MOVQ ud+72(FP), SI
	LEAQ (SI)(AX*8), SI
	MOVQ (R14)(R15*8), CX   // t = off[r]
	MOVQ 8(R14)(R15*8), R13 // off[r+1]

rtloop:
	CMPQ CX, R13
	JGE  rnext
	VMULSD (R12)(CX*8), X8, X0 // a_t
	VBROADCASTSD X0, Y0
	MOVQ (R11)(CX*8), AX // s_t
	MOVQ AX, DI
	IMULQ R8, DI
	LEAQ (BX)(DI*8), DI
	XORQ DX, DX

raxpyloop:
	VMOVUPD (DI)(DX*8), Y4
	VFMADD231PD (SI)(DX*8), Y0, Y4
	VMOVUPD Y4, (DI)(DX*8)
	ADDQ $4, DX
	CMPQ DX, R8
	JLT  raxpyloop

	IMULQ R10, AX
	LEAQ (R9)(AX*8), DI // &gss[s_t*ns]
	MOVQ CX, DX

rssloop:
	MOVQ (R11)(DX*8), AX
	VMOVSD (DI)(AX*8), X4
	VFMADD231SD (R12)(DX*8), X0, X4
	VMOVSD X4, (DI)(AX*8)
	INCQ DX
	CMPQ DX, R13
	JLT  rssloop

	INCQ CX
	JMP  rtloop

rnext:
	INCQ R15
	JMP  rowsloop

rowsdone:
	VZEROUPPER
	RET

// func lgSparseFillRowsFMA(f *lgFillArgs, rows *int, nr int, loff *int32, lcol *uint16, lo int, ud *float64, md4 int, idx *int, val *float64, off *int, e *float64) (nz int)
// lgFill.rowsGo with fused multiply-adds (see lgSparseFillFMA): for
// t = 0..nr-1, row r = rows[t] of x (f.x, f.stride) with the nonzero
// sparse columns lcol[loff[r-lo]:loff[r-lo+1]] fills ud[t*md4:] and
// idx/val from nz on, sets e[t] and off[t+1] = nz (the running total);
// it prefetches row r+8 (if r+8 < f.n) first. f: dcol+0, dcen+8, nd+16,
// bd+24, sidx+32, bs+40, b0+48, p+56, x+64, stride+72, n+80.
TEXT ·lgSparseFillRowsFMA(SB), NOSPLIT, $0-104
	MOVQ f+0(FP), R15
	XORQ R14, R14 // t
	XORQ R13, R13 // nz

frow:
	CMPQ R14, nr+16(FP)
	JGE  fdone
	MOVQ rows+8(FP), AX
	MOVQ (AX)(R14*8), BX // r
	MOVQ 72(R15), AX
	IMULQ BX, AX
	MOVQ 64(R15), SI
	LEAQ (SI)(AX*8), SI // &x[r*stride]
	LEAQ 8(BX), AX
	CMPQ AX, 80(R15)
	JGE  fnopf
	MOVQ 72(R15), DX
	SHLQ $6, DX // 8 rows ahead, in bytes
	LEAQ (SI)(DX*1), AX
	MOVQ 56(R15), DX
	LEAQ -8(AX)(DX*8), DX
	ANDQ $-64, AX

fpfl:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, DX
	JLE  fpfl

fnopf:
	MOVQ md4+56(FP), AX
	IMULQ R14, AX
	MOVQ ud+48(FP), DI
	LEAQ (DI)(AX*8), DI
	MOVQ 0(R15), R8  // dcol
	MOVQ 8(R15), R9  // dcen
	MOVQ 16(R15), CX // nd
	MOVQ 24(R15), R10 // bd
	VXORPD X0, X0, X0
	VXORPD X1, X1, X1
	XORQ AX, AX

fdl:
	CMPQ AX, CX
	JGE  fdend
	MOVQ (R8)(AX*8), DX
	VMOVSD (SI)(DX*8), X2
	VSUBSD (R9)(AX*8), X2, X2
	VMOVSD X2, (DI)(AX*8)
	VFMADD231SD (R10)(AX*8), X2, X0
	INCQ AX
	JMP  fdl

fdend:
	SUBQ lo+40(FP), BX
	MOVQ loff+24(FP), AX
	MOVLQSX (AX)(BX*4), R11
	MOVLQSX 4(AX)(BX*4), CX
	SUBQ R11, CX // k
	MOVQ lcol+32(FP), AX
	LEAQ (AX)(R11*2), R11
	MOVQ 32(R15), R12 // sidx
	MOVQ 40(R15), BX  // bs
	MOVQ idx+64(FP), R8
	LEAQ (R8)(R13*8), R8
	MOVQ val+72(FP), R9
	LEAQ (R9)(R13*8), R9
	XORQ AX, AX

fsl:
	CMPQ AX, CX
	JGE  fsend
	MOVWQZX (R11)(AX*2), DX
	MOVQ (R12)(DX*8), R10
	VMOVSD (SI)(DX*8), X2
	MOVQ R10, (R8)(AX*8)
	VMOVSD X2, (R9)(AX*8)
	VFMADD231SD (BX)(R10*8), X2, X1
	INCQ AX
	JMP  fsl

fsend:
	ADDQ CX, R13
	VMOVSD 48(R15), X3
	VADDSD X0, X3, X3
	VADDSD X1, X3, X3
	MOVQ e+88(FP), AX
	VMOVSD X3, (AX)(R14*8)
	MOVQ off+80(FP), AX
	MOVQ R13, 8(AX)(R14*8)
	INCQ R14
	JMP  frow

fdone:
	MOVQ R13, nz+96(FP)
	RET

// func lgTypedSparseFMA(f *lgFillArgs, ref *lgColRef, rows *int, nr int, loff *int32, lcol *uint16, idx *int, val *float64, off *int, e *float64) (nz int)
// lgFill.colsSparseGo with fused multiply-adds, reading the values
// through ref (per column: p+0, kind+8; kind 0 uint8, 1 int16, 2
// float64): for t = 0..nr-1, row r = rows[t] with the nonzero sparse
// columns lcol[loff[r]:loff[r+1]] fills idx/val from nz on (sparse sum
// es += bs[idx]*val fused, in column order), sets e[t] = (b0 + e[t]) + es
// and off[t+1] = nz (the running total). f: sidx+32, bs+40, b0+48.
TEXT ·lgTypedSparseFMA(SB), NOSPLIT, $0-88
	MOVQ f+0(FP), R15
	MOVQ ref+8(FP), R12
	MOVQ 32(R15), R9  // sidx
	MOVQ 40(R15), R10 // bs
	XORQ R14, R14     // t
	XORQ R13, R13     // nz
	VXORPD X15, X15, X15

trow:
	CMPQ R14, nr+24(FP)
	JGE  tdone
	MOVQ rows+16(FP), AX
	MOVQ (AX)(R14*8), BX // r
	MOVQ loff+32(FP), AX
	MOVLQSX (AX)(BX*4), R11
	MOVLQSX 4(AX)(BX*4), CX
	SUBQ R11, CX // k
	MOVQ lcol+40(FP), AX
	LEAQ (AX)(R11*2), R8 // &lcol[loff[r]]
	MOVQ idx+48(FP), SI
	LEAQ (SI)(R13*8), SI
	MOVQ val+56(FP), DI
	LEAQ (DI)(R13*8), DI
	VXORPD X1, X1, X1
	XORQ AX, AX

tsl:
	CMPQ AX, CX
	JGE  tsend
	MOVWQZX (R8)(AX*2), DX // j
	MOVQ (R9)(DX*8), R11   // s
	MOVQ R11, (SI)(AX*8)
	SHLQ $4, DX
	MOVQ 8(R12)(DX*1), R11 // kind
	MOVQ (R12)(DX*1), DX   // p
	CMPQ R11, $0
	JNE  tsn8
	MOVBLZX (DX)(BX*1), DX
	VCVTSI2SDL DX, X15, X2
	JMP  tsv

tsn8:
	CMPQ R11, $1
	JNE  tsf
	MOVWLSX (DX)(BX*2), DX
	VCVTSI2SDL DX, X15, X2
	JMP  tsv

tsf:
	VMOVSD (DX)(BX*8), X2

tsv:
	VMOVSD X2, (DI)(AX*8)
	MOVQ (SI)(AX*8), R11
	VFMADD231SD (R10)(R11*8), X2, X1
	INCQ AX
	JMP  tsl

tsend:
	ADDQ CX, R13
	MOVQ e+72(FP), AX
	VMOVSD 48(R15), X3
	VADDSD (AX)(R14*8), X3, X3
	VADDSD X1, X3, X3
	VMOVSD X3, (AX)(R14*8)
	MOVQ off+64(FP), AX
	MOVQ R13, 8(AX)(R14*8)
	INCQ R14
	JMP  trow

tdone:
	MOVQ R13, nz+80(FP)
	RET
