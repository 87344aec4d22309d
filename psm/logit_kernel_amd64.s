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
